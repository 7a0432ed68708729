-- ARGV: prefix, presented, client_id, new refresh, successor_ct, new access,
--       access expiry, refresh expiry, scopes (JSON)|'', resource|'', now,
--       grace secs, access cap, access per grant, retired per grant
local presented, client, new_rt, ct, new_at = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local at_exp, rt_exp, want, resource = tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9], ARGV[10]
local now, grace = tonumber(ARGV[11]), tonumber(ARGV[12])
local f = redis.call('GET', k('refresh', presented))
if not f then return {'invalid'} end
local g = k('grant', f)
local v = redis.call('HMGET', g, 'user', 'client_id', 'scopes', 'resource', 'exp', 'refresh', 'prev', 'prev_at', 'prev_ct')
if not v[1] then
  redis.call('DEL', k('refresh', presented))
  return {'invalid'}
end
if tonumber(v[5]) <= now or v[2] ~= client then return {'invalid'} end
if resource ~= '' and resource ~= v[4] then return {'invalid_target'} end
local scopes = v[3]
if want ~= '' then
  local have, asked = {}, cjson.decode(want)
  for _, s in ipairs(cjson.decode(v[3])) do have[s] = true end
  if #asked == 0 then return {'invalid_scope'} end
  for _, s in ipairs(asked) do if not have[s] then return {'invalid_scope'} end end
  scopes = want
end
local is_current = v[6] == presented
local in_grace = v[7] == presented and now <= tonumber(v[8]) + grace
if not is_current and not in_grace then
  -- A known but superseded token: treat it as stolen.
  remove_grant(f)
  return {'reuse', f}
end
if not has_room(k('idx', 'access'), tonumber(ARGV[13]), now) then return {'full'} end
local at_json = access_json(f, v[1], v[2], scopes, v[4], at_exp)
if in_grace then
  add_access(f, new_at, at_json, at_exp, now, tonumber(ARGV[14]))
  return {'grace', v[1], v[2], scopes, v[4], v[9]}
end
local retired = k('grant-retired', f)
if v[7] ~= '' then redis.call('RPUSH', retired, v[7]) end
if redis.call('LLEN', retired) > tonumber(ARGV[15]) then
  redis.call('DEL', k('refresh', redis.call('LPOP', retired)))
end
redis.call('HSET', g, 'prev', presented, 'prev_at', now, 'prev_ct', ct, 'refresh', new_rt, 'exp', rt_exp)
redis.call('SET', k('refresh', new_rt), f)
add_access(f, new_at, at_json, at_exp, now, tonumber(ARGV[14]))
-- Everything the grant knows lives as long as it does, so reuse of an old
-- refresh token is still recognised at the end of its life.
local keys = {g, k('grant-at', f), retired, k('refresh', new_rt), k('refresh', presented)}
for _, h in ipairs(redis.call('LRANGE', retired, 0, -1)) do table.insert(keys, k('refresh', h)) end
for _, key in ipairs(keys) do
  if redis.call('EXISTS', key) == 1 then expire_at(key, rt_exp, now) end
end
redis.call('ZADD', k('idx', 'grants'), rt_exp, f)
touch_client(v[2], now)
return {'rotated', v[1], v[2], scopes, v[4]}
