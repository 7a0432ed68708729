-- ARGV: prefix, hash, code, family, expires_at, now, codes cap, grants cap,
--       user, client_id, scopes (JSON), resource
local h, f, exp, now = ARGV[2], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local codes, grants = k('idx', 'codes'), k('idx', 'grants')
if not has_room(codes, tonumber(ARGV[7]), now) or not has_room(grants, tonumber(ARGV[8]), now) then
  return {'full'}
end
local g = k('grant', f)
redis.call('DEL', g)
-- Until the code is exchanged the grant lives as long as the code.
redis.call('HSET', g, 'user', ARGV[9], 'client_id', ARGV[10], 'scopes', ARGV[11],
  'resource', ARGV[12], 'created', now, 'exp', exp, 'code', h, 'refresh', '', 'prev', '')
expire_at(g, exp, now)
redis.call('ZADD', grants, exp, f)
redis.call('HSET', k('code', h), 'rec', ARGV[3], 'family', f, 'exp', exp)
expire_at(k('code', h), exp, now)
redis.call('ZADD', codes, exp, h)
return {'ok'}
