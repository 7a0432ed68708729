-- ARGV: prefix, hash, client_id, redirect_uri, challenge|'', resource|'',
--       access hash, access expiry, refresh hash, refresh expiry, now,
--       access cap, access per grant
local h, now = ARGV[2], tonumber(ARGV[11])
local at, at_exp, rt, rt_exp = ARGV[7], tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10])
if not has_room(k('idx', 'access'), tonumber(ARGV[12]), now) then return {'full'} end
local key = k('code', h)
local v = redis.call('HMGET', key, 'family', 'exp', 'client_id', 'redirect_uri', 'challenge', 'resource')
if not v[1] then
  local f = redis.call('GET', k('used', h))
  if f then
    -- RFC 6749 §10.5: a replayed code revokes everything issued from it.
    remove_grant(f)
    return {'replayed', f}
  end
  return {'invalid'}
end
local f = v[1]
redis.call('DEL', key)
redis.call('ZREM', k('idx', 'codes'), h)
redis.call('SET', k('used', h), f, 'EX', USED_CODE_TTL)
if tonumber(v[2]) <= now then
  remove_grant(f)
  return {'invalid'}
end
local mismatch
if ARGV[3] ~= v[3] then mismatch = 'client'
elseif ARGV[4] ~= v[4] then mismatch = 'redirect_uri'
elseif ARGV[5] == '' or ARGV[5] ~= v[5] then mismatch = 'pkce'
elseif ARGV[6] ~= '' and ARGV[6] ~= v[6] then mismatch = 'resource'
end
if mismatch then
  remove_grant(f)
  return {'mismatch', mismatch}
end
local g = k('grant', f)
local gv = redis.call('HMGET', g, 'user', 'client_id', 'scopes', 'resource')
if not gv[1] then return {'invalid'} end
redis.call('HSET', g, 'refresh', rt, 'exp', rt_exp, 'code', '')
redis.call('SET', k('refresh', rt), f)
add_access(f, at, access_json(f, gv[1], gv[2], gv[3], gv[4], at_exp), at_exp, now, tonumber(ARGV[13]))
for _, key in ipairs({g, k('grant-at', f), k('refresh', rt)}) do expire_at(key, rt_exp, now) end
redis.call('ZADD', k('idx', 'grants'), rt_exp, f)
touch_client(gv[2], now)
return {'issued', gv[1], gv[2], gv[3], gv[4]}
