-- ARGV: prefix, name, now
local name, now = ARGV[2], tonumber(ARGV[3])
local key = k('user', name)
if redis.call('EXISTS', key) == 0 then return {'none'} end
redis.call('HSET', key, 'last_seen', now)
local keep = now + IDLE_TTL
redis.call('ZADD', k('idx', 'users'), keep, name)
expire_at(key, keep, now)
return {'ok'}
