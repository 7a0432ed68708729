-- ARGV: prefix, hash, client_id
local h, client = ARGV[2], ARGV[3]
local a = redis.call('GET', k('at', h))
if a then
  local rec = cjson.decode(a)
  if rec.client_id ~= client then return {'nothing'} end
  redis.call('DEL', k('at', h))
  redis.call('LREM', k('grant-at', rec.family), 0, h)
  redis.call('ZREM', k('idx', 'access'), h)
  return {'access', rec.family}
end
local f = redis.call('GET', k('refresh', h))
if f and redis.call('HGET', k('grant', f), 'client_id') == client then
  remove_grant(f)
  return {'grant', f}
end
return {'nothing'}
