-- rule: claim_reply(record_key, now, stale, ttl)
-- The claim of a reply record before its reply is posted (`hub.conversation.replies`).
-- A `posting` claim older than `stale` seconds belongs to a worker that died
-- between claim and post: it is taken over here, atomically, so two workers that
-- find it stale at once cannot both post.
--   record_key  the message's reply record
--   now         the time of the claim (seconds, as text)
--   stale       seconds after which a `posting` claim is stale
--   ttl         the record's TTL (seconds)
-- Returns: 'claimed' (go ahead and post), 'posted' (already done) or
--   'in_progress' (another worker is posting).
local function claim_reply(record_key, now, stale, ttl)
  local record = redis.call('get', record_key)
  if not record then
    redis.call('set', record_key, 'posting:' .. now, 'EX', ttl)
    return 'claimed'
  end
  if record == 'posted' then return 'posted' end
  local started = tonumber(string.match(record, '^posting:(.+)$') or '') or 0
  if tonumber(now) - started > tonumber(stale) then
    redis.call('set', record_key, 'posting:' .. now, 'EX', ttl)
    return 'claimed'
  end
  return 'in_progress'
end
