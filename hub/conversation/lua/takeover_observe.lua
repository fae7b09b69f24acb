-- takeover_observe: note the status a message carried
-- (`hub.conversation.takeover.Takeover.observe`).
--
-- include: takeover_holds.lua
--
-- KEYS[1]  the conversation's takeover mark
-- ARGV[1]  the conversation's status on the message
-- Returns: 1 while the takeover holds, else 0.
if takeover_holds(KEYS[1], ARGV[1]) then return 1 end
return 0
