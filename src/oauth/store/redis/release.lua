-- ARGV: prefix, key, now
local key, now = k('thr', ARGV[2]), tonumber(ARGV[3])
local v = redis.call('HMGET', key, 'count', 'started', 'secs')
local count = tonumber(v[1])
if count and count > 0 and tonumber(v[2]) + tonumber(v[3]) > now then
  redis.call('HINCRBY', key, 'count', -1)
end
return {'ok'}
