-- fair_release: a token's message is done (answered, deferred, retried or dead-lettered)
-- (`hub.conversation.fairness.FairShare.release`): its tenant's running slot is freed
-- and its in-flight record deleted.
--
-- KEYS[1]  the token's in-flight record (hash: tenant, message)
-- ARGV[1]  the prefix of the shard's per-tenant keys (`…:running:<tenant>`)
-- ARGV[2]  the token's task id
-- Returns: 1 released, 0 nothing was in flight for that token.
local tenant = redis.call('hget', KEYS[1], 'tenant')
if not tenant then return 0 end
redis.call('zrem', ARGV[1] .. 'running:' .. tenant, ARGV[2])
redis.call('del', KEYS[1])
return 1
