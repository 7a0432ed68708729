-- ARGV: prefix, family, access hash, access expiry, refresh hash,
--       refresh expiry, now, access cap, access per grant
local f, at, at_exp, rt, rt_exp, now = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local g = k('grant', f)
local v = redis.call('HMGET', g, 'user', 'client_id', 'scopes', 'resource', 'refresh')
if not v[1] then return {'unknown'} end
if v[5] ~= '' then return {'exists'} end
if not has_room(k('idx', 'access'), tonumber(ARGV[8]), now) then return {'full'} end
redis.call('HSET', g, 'refresh', rt, 'exp', rt_exp)
redis.call('SET', k('refresh', rt), f)
add_access(f, at, access_json(f, v[1], v[2], v[3], v[4], at_exp), at_exp, now, tonumber(ARGV[9]))
for _, key in ipairs({g, k('grant-at', f), k('refresh', rt)}) do expire_at(key, rt_exp, now) end
redis.call('ZADD', k('idx', 'grants'), rt_exp, f)
touch_client(v[2], now)
return {'ok', v[1], v[2], v[3], v[4]}
