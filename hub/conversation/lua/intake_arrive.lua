-- intake_arrive: a customer message's arrival at the receiver
-- (`hub.conversation.intake.Intake.arrive`). Unless a human owns the
-- conversation, claim every dedupe key (all or none) and read the conversation's
-- domain record.
--
-- include: takeover_holds.lua
--
-- KEYS[1]    the conversation's takeover mark
-- KEYS[2]    the conversation's domain record
-- KEYS[3..]  the message's dedupe keys
-- ARGV[1]    the conversation's status on this message
-- ARGV[2]    the dedupe keys' TTL (seconds)
-- Returns: {'taken_over'}; {'duplicate'} (nothing was claimed); or {'new', the
--   domain record's fields and values, flat}.
if takeover_holds(KEYS[1], ARGV[1]) then return {'taken_over'} end
local fresh = {}
for i = 3, #KEYS do
  if redis.call('set', KEYS[i], '1', 'NX', 'EX', ARGV[2]) then
    fresh[#fresh + 1] = KEYS[i]
  else
    if #fresh > 0 then redis.call('del', unpack(fresh)) end
    return {'duplicate'}
  end
end
return {'new', redis.call('hgetall', KEYS[2])}
