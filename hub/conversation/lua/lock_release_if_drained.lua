-- lock_release_if_drained: give a conversation lock up if its mailbox is empty
-- (`hub.conversation.lock.ConversationLock.release_if_drained`).
--
-- include: release_if_drained.lua
--
-- KEYS[1]  the conversation's lock
-- KEYS[2]  the conversation's mailbox
-- ARGV[1]  the holder's lock token
-- Returns: 1 released, 0 kept (the mailbox holds more), -1 lost.
return release_if_drained(KEYS[1], KEYS[2], ARGV[1])
