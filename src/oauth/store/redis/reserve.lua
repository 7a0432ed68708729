-- ARGV: prefix, key, max, window secs, now, cap
local name, max, secs, now = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local key, idx = k('thr', name), k('idx', 'throttles')
local v = redis.call('HMGET', key, 'count', 'started', 'secs')
local count, started, wsecs = tonumber(v[1]), tonumber(v[2]), tonumber(v[3])
if not count then
  -- Room for one more key: dead windows go first, then those ending soonest.
  prune(idx, now)
  while redis.call('ZCARD', idx) >= tonumber(ARGV[6]) do
    local gone = redis.call('ZPOPMIN', idx)
    if not gone[1] then break end
    redis.call('DEL', k('thr', gone[1]))
  end
  count, started, wsecs = 0, now, secs
end
if started + wsecs <= now then count, started, wsecs = 0, now, secs end
local ends = started + wsecs
if count >= max then return {'refused', tostring(ends - now)} end
redis.call('HSET', key, 'count', count + 1, 'started', started, 'secs', wsecs)
expire_at(key, ends, now)
redis.call('ZADD', idx, ends, name)
return {'granted'}
