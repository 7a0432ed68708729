-- ARGV: prefix, hash, family, expires_at, now, codes cap, grants cap,
--       user, client_id, scopes (JSON), resource, redirect_uri, challenge
local h, f, exp, now = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local codes, grants = k('idx', 'codes'), k('idx', 'grants')
if not has_room(codes, tonumber(ARGV[6]), now) or not has_room(grants, tonumber(ARGV[7]), now) then
  return {'full'}
end
local g = k('grant', f)
redis.call('DEL', g)
-- Until the code is exchanged the grant lives as long as the code.
redis.call('HSET', g, 'user', ARGV[8], 'client_id', ARGV[9], 'scopes', ARGV[10],
  'resource', ARGV[11], 'created', now, 'exp', exp, 'code', h, 'refresh', '', 'prev', '')
expire_at(g, exp, now)
redis.call('ZADD', grants, exp, f)
-- What the exchange must match.
redis.call('HSET', k('code', h), 'family', f, 'exp', exp, 'client_id', ARGV[9],
  'redirect_uri', ARGV[12], 'challenge', ARGV[13], 'resource', ARGV[11])
expire_at(k('code', h), exp, now)
redis.call('ZADD', codes, exp, h)
return {'ok'}
