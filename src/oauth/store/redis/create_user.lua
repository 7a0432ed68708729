-- ARGV: prefix, name, rec, created, cap
local name, now, cap = ARGV[2], tonumber(ARGV[4]), tonumber(ARGV[5])
local key = k('user', name)
if redis.call('EXISTS', key) == 1 then return {'exists'} end
local idx = k('idx', 'users')
if redis.call('ZCARD', idx) >= cap then
  expire_users(now)
  if redis.call('ZCARD', idx) >= cap then return {'full'} end
end
drop_consents(name)
redis.call('HSET', key, 'rec', ARGV[3], 'last_seen', '')
local keep = now + UNUSED_TTL
redis.call('ZADD', idx, keep, name)
expire_at(key, keep, now)
return {'ok'}
