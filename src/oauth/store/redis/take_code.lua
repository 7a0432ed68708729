-- ARGV: prefix, hash, now
local h, now = ARGV[2], tonumber(ARGV[3])
local key = k('code', h)
local v = redis.call('HMGET', key, 'rec', 'family', 'exp')
if v[1] then
  redis.call('DEL', key)
  redis.call('ZREM', k('idx', 'codes'), h)
  -- Remembered so that a replay revokes the grant (RFC 6749 §10.5).
  redis.call('SET', k('used', h), v[2], 'EX', USED_CODE_TTL)
  if tonumber(v[3]) <= now then
    remove_grant(v[2])
    return {'invalid', v[2]}
  end
  return {'ok', v[1]}
end
local f = redis.call('GET', k('used', h))
if f then
  remove_grant(f)
  return {'replayed', f}
end
return {'invalid'}
