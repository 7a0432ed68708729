-- ARGV: prefix, hash, session, expires_at, now, cap
local h, exp, now = ARGV[2], tonumber(ARGV[4]), tonumber(ARGV[5])
local idx = k('idx', 'sessions')
if not has_room(idx, tonumber(ARGV[6]), now) then return {'full'} end
redis.call('SET', k('bsess', h), ARGV[3])
expire_at(k('bsess', h), exp, now)
redis.call('ZADD', idx, exp, h)
return {'ok'}
