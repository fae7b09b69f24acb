-- gate_before_post: the last checks before a reply is posted, and its claim
-- (`hub.conversation.gate.TurnGate.before_post`): is the lock still ours, did the
-- customer write while the crew ran, did a human take over? If none of these,
-- claim the reply record.
--
-- include: claim_reply.lua
--
-- KEYS[1]  the conversation's lock
-- KEYS[2]  the conversation's mailbox
-- KEYS[3]  the conversation's takeover mark
-- KEYS[4]  the reply record of the burst's last message
-- ARGV[1]  lock token
-- ARGV[2]  mailbox size above which the customer wrote meanwhile (-1: do not look)
-- ARGV[3]  now (seconds)
-- ARGV[4]  seconds after which a `posting` claim is stale
-- ARGV[5]  the reply record's TTL (seconds)
-- Returns: 'lost', 'newer' or 'taken_over' when a check fails, else what
--   claim_reply answered: 'claimed', 'posted' or 'in_progress'.
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 'lost' end
local fold_above = tonumber(ARGV[2])
if fold_above >= 0 and redis.call('llen', KEYS[2]) > fold_above then return 'newer' end
if redis.call('exists', KEYS[3]) == 1 then return 'taken_over' end
return claim_reply(KEYS[4], ARGV[3], ARGV[4], ARGV[5])
