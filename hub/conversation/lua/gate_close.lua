-- gate_close: the burst is answered (`hub.conversation.gate.TurnGate.close`). Its
-- reply records say `posted`, the mailbox drops it, keys the turn made obsolete
-- go, and the lock goes if the mailbox is now empty.
--
-- include: release_if_drained.lua
--
-- KEYS[1]    the conversation's lock
-- KEYS[2]    the conversation's mailbox
-- KEYS[3..]  the burst's reply records (ARGV[3] of them), then keys the turn made
--            obsolete
-- ARGV[1]    lock token
-- ARGV[2]    mailbox entries to drop (the burst; 0 when it was not read from the mailbox)
-- ARGV[3]    how many reply records
-- ARGV[4]    the reply records' TTL (seconds)
-- Returns: what release_if_drained answered: 1 released, 0 kept, -1 lost.
local records = tonumber(ARGV[3])
for i = 3, 2 + records do redis.call('set', KEYS[i], 'posted', 'EX', ARGV[4]) end
if tonumber(ARGV[2]) > 0 then redis.call('ltrim', KEYS[2], ARGV[2], -1) end
for i = 3 + records, #KEYS do redis.call('del', KEYS[i]) end
return release_if_drained(KEYS[1], KEYS[2], ARGV[1])
