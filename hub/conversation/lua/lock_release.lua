-- lock_release: give a conversation lock up whatever its mailbox holds
-- (`hub.conversation.lock.ConversationLock.release`, after a failure).
--
-- KEYS[1]  the conversation's lock
-- ARGV[1]  the holder's lock token
-- Returns: 1 released, 0 when the lock held another token or was gone.
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
