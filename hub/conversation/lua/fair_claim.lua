-- fair_claim: the message a shared queue's token answers
-- (`hub.conversation.fairness.FairShare.claim`). A token redelivered after its worker
-- died finds its in-flight record and resumes the same message. Otherwise the tenant
-- with the lowest virtual time among those with urgent messages, then among all with
-- messages, that is under its concurrency cap, gives its oldest message (urgent
-- first); its virtual time moves one on, and the message is recorded in flight.
--
-- KEYS[1]  the shard's ready set (tenants with messages waiting, by virtual time)
-- KEYS[2]  the shard's urgent set (tenants with urgent messages waiting)
-- KEYS[3]  the shard's idle virtual times (hash: tenant → virtual time)
-- KEYS[4]  the shard's virtual clock (the virtual time of the last claim)
-- KEYS[5]  the shard's concurrency caps (hash: tenant → cap)
-- KEYS[6]  the token's in-flight record (hash: tenant, message)
-- KEYS[7]  the shard's parked tokens (how many found every tenant with work capped)
-- ARGV[1]  the prefix of the shard's per-tenant keys (`…:pending:<tenant>`)
-- ARGV[2]  the token's task id
-- ARGV[3]  now (Unix seconds)
-- ARGV[4]  the lease of a claim's running slot, seconds (a lost token frees it then)
-- ARGV[5]  the cap of a tenant with none recorded
-- ARGV[6]  how long an in-flight record is kept, seconds (its token may come back only
--          when a worker starts, however long after the visibility timeout)
-- Returns: {'resumed'|'claimed', tenant, message}, {'capped'} (work waits, every tenant
-- with some is at its cap: the token is parked, and a release brings it back) or
-- {'empty'}.
local now = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local held = redis.call('hmget', KEYS[6], 'tenant', 'message')
if held[1] and held[2] then
  redis.call('zadd', ARGV[1] .. 'running:' .. held[1], now + lease, ARGV[2])
  redis.call('expire', KEYS[6], ARGV[6])
  return {'resumed', held[1], held[2]}
end
for _, set in ipairs({KEYS[2], KEYS[1]}) do
  for _, tenant in ipairs(redis.call('zrange', set, 0, -1)) do
    local running = ARGV[1] .. 'running:' .. tenant
    redis.call('zremrangebyscore', running, '-inf', now)
    local cap = tonumber(redis.call('hget', KEYS[5], tenant) or ARGV[5])
    if redis.call('zcard', running) < cap then
      local urgent = ARGV[1] .. 'urgent:' .. tenant
      local pending = ARGV[1] .. 'pending:' .. tenant
      local message = redis.call('lpop', urgent)
      if not message then message = redis.call('lpop', pending) end
      local score = tonumber(redis.call('zscore', KEYS[1], tenant) or redis.call('get', KEYS[4]) or '0')
      if message then
        redis.call('set', KEYS[4], score)
        if redis.call('llen', urgent) > 0 then
          redis.call('zadd', KEYS[2], score + 1, tenant)
        else
          redis.call('zrem', KEYS[2], tenant)
        end
        if redis.call('llen', pending) + redis.call('llen', urgent) > 0 then
          redis.call('zadd', KEYS[1], score + 1, tenant)
        else
          redis.call('zrem', KEYS[1], tenant)
          redis.call('hset', KEYS[3], tenant, score + 1)
        end
        redis.call('zadd', running, now + lease, ARGV[2])
        redis.call('hset', KEYS[6], 'tenant', tenant, 'message', message)
        redis.call('expire', KEYS[6], ARGV[6])
        return {'claimed', tenant, message}
      end
      redis.call('zrem', KEYS[1], tenant)
      redis.call('zrem', KEYS[2], tenant)
    end
  end
end
if redis.call('zcard', KEYS[1]) > 0 then
  redis.call('incr', KEYS[7])
  return {'capped'}
end
return {'empty'}
