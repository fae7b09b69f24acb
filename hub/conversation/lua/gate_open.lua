-- gate_open: was this message answered already? If not, take the conversation's
-- lock and, holding it, read the mailbox, the takeover mark and the count of misses
-- (`hub.conversation.gate.TurnGate.open`).
--
-- KEYS[1]  the message's reply record
-- KEYS[2]  the message's draft
-- KEYS[3]  the conversation's lock
-- KEYS[4]  the conversation's mailbox
-- KEYS[5]  the conversation's takeover mark
-- KEYS[6]  the conversation's count of unanswered turns in a row
-- ARGV[1]  lock token
-- ARGV[2]  lock TTL (ms)
-- ARGV[3]  mailbox read limit
-- Returns: {1} when the reply is posted; {0, draft, 0} when another worker
--   holds the lock; {0, draft, 1, the mark exists (0/1), the mailbox's first ARGV[3]
--   entries, the count of misses (false when none)} when the lock is ours now.
if redis.call('get', KEYS[1]) == 'posted' then return {1} end
local draft = redis.call('get', KEYS[2])
if not redis.call('set', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {0, draft, 0}
end
return {0, draft, 1, redis.call('exists', KEYS[5]),
        redis.call('lrange', KEYS[4], 0, tonumber(ARGV[3]) - 1), redis.call('get', KEYS[6])}
