-- rule: takeover_holds(mark_key, status)
-- The takeover rule (`hub.conversation.takeover`): notes the status a message
-- carried. A taken-over conversation seen outside `pending` and `pending` again
-- was given back to the bot: its mark is deleted.
--   mark_key  the conversation's takeover mark (a hash with `left_pending`)
--   status    the conversation's status on the message
-- Returns: true while the takeover holds, false when there is no mark (any more).
local function takeover_holds(mark_key, status)
  local taken_over = false
  local left = redis.call('hget', mark_key, 'left_pending')
  if left then
    if status ~= 'pending' then
      if left ~= '1' then redis.call('hset', mark_key, 'left_pending', '1') end
      taken_over = true
    elseif left == '1' then
      redis.call('del', mark_key)
    else
      taken_over = true
    end
  end
  return taken_over
end
