-- fair_release: a token's message is done (answered, busy, deferred or dead-lettered)
-- (`hub.conversation.fairness.FairShare.release`): its tenant's running slot is freed
-- and its in-flight record deleted. A slot freed is a claim a parked token can make:
-- one comes back (the caller queues it) while any is parked.
--
-- KEYS[1]  the token's in-flight record (hash: tenant, message)
-- KEYS[2]  the shard's parked tokens (how many found every tenant with work capped)
-- ARGV[1]  the prefix of the shard's per-tenant keys (`…:running:<tenant>`)
-- ARGV[2]  the token's task id
-- Returns: 2 released and a parked token to queue again, 1 released, 0 nothing was in
-- flight for that token.
local tenant = redis.call('hget', KEYS[1], 'tenant')
if not tenant then return 0 end
redis.call('zrem', ARGV[1] .. 'running:' .. tenant, ARGV[2])
redis.call('del', KEYS[1])
if tonumber(redis.call('get', KEYS[2]) or '0') > 0 then
  redis.call('decr', KEYS[2])
  return 2
end
return 1
