-- rule: release_if_drained(lock_key, mailbox_key, token)
-- The release rule of a conversation lock (`hub.conversation.lock`): the holder
-- gives the lock up only when the mailbox is empty, so a message pushed while it
-- was finishing is either seen by the holder or finds the lock free.
--   lock_key     the conversation's lock
--   mailbox_key  the conversation's mailbox
--   token        the holder's lock token
-- Returns: 1 released, 0 kept (the mailbox holds more), -1 lost (another token).
local function release_if_drained(lock_key, mailbox_key, token)
  if redis.call('get', lock_key) ~= token then return -1 end
  if redis.call('llen', mailbox_key) > 0 then return 0 end
  redis.call('del', lock_key)
  return 1
end
