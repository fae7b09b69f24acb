-- fair_enqueue: put a message in its tenant's line on a shared queue
-- (`hub.conversation.fairness.FairShare.enqueue`, inside the receiver's MULTI).
-- A tenant that had nothing waiting rejoins at the shard's virtual clock, not at the
-- virtual time it left with: an idle tenant saves up no turns to flood with later.
--
-- KEYS[1]  the shard's ready set (tenants with messages waiting, by virtual time)
-- KEYS[2]  the shard's urgent set (tenants with urgent messages waiting)
-- KEYS[3]  the shard's idle virtual times (hash: tenant → virtual time)
-- KEYS[4]  the shard's virtual clock (the virtual time of the last claim)
-- KEYS[5]  the shard's concurrency caps (hash: tenant → cap)
-- ARGV[1]  the prefix of the shard's per-tenant keys (`…:pending:<tenant>`)
-- ARGV[2]  the tenant (domain id)
-- ARGV[3]  the message (JSON)
-- ARGV[4]  1 urgent, 0 normal
-- ARGV[5]  the tenant's concurrency cap
-- Returns: how many messages the tenant has waiting, this one included.
local tenant = ARGV[2]
local line = ARGV[1] .. (ARGV[4] == '1' and 'urgent:' or 'pending:') .. tenant
redis.call('rpush', line, ARGV[3])
redis.call('hset', KEYS[5], tenant, ARGV[5])
local score = redis.call('zscore', KEYS[1], tenant)
if not score then
  local idle = tonumber(redis.call('hget', KEYS[3], tenant) or '0')
  local clock = tonumber(redis.call('get', KEYS[4]) or '0')
  score = math.max(idle, clock)
  redis.call('zadd', KEYS[1], score, tenant)
  redis.call('hdel', KEYS[3], tenant)
end
if ARGV[4] == '1' then
  redis.call('zadd', KEYS[2], score, tenant)
end
return redis.call('llen', ARGV[1] .. 'pending:' .. tenant)
  + redis.call('llen', ARGV[1] .. 'urgent:' .. tenant)
