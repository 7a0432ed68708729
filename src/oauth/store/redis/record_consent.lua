-- ARGV: prefix, user, field (client \n redirect), consent, granted_at, cap
local user, field, now, cap = ARGV[2], ARGV[3], tonumber(ARGV[5]), tonumber(ARGV[6])
local key = k('consents', user)
local idx = k('idx', 'consents')
local member = user .. '\n' .. field
if redis.call('HEXISTS', key, field) == 0 and redis.call('ZCARD', idx) >= cap then
  expire_consents(now)
  if redis.call('ZCARD', idx) >= cap then return {'full'} end
end
redis.call('HSET', key, field, ARGV[4])
-- An approval not renewed for this long is asked again.
redis.call('ZADD', idx, now + IDLE_TTL, member)
return {'ok'}
