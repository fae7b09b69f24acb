-- lock_renew: extend a held conversation lock
-- (`hub.conversation.lock.ConversationLocks.renew`).
--
-- KEYS[1]  the conversation's lock
-- ARGV[1]  the holder's lock token
-- ARGV[2]  lock TTL (ms)
-- Returns: 1 renewed, -1 lost (the lock holds another token or is gone).
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return -1
