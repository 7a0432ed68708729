-- ARGV: prefix, id, rec, created, last_used|'', cache_until|'', cap, replace
local id, rec, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local key = k('client', id)
local exists = redis.call('EXISTS', key) == 1
if exists and ARGV[8] == '0' then return {'exists'} end
local last_used = num(ARGV[5])
if exists then
  -- A refetched CIMD document keeps the client's use.
  local old = num(redis.call('HGET', key, 'last_used'))
  if old then last_used = old end
end
local idx = k('idx', 'clients')
if not exists and redis.call('ZCARD', idx) >= tonumber(ARGV[7]) then
  expire_clients(now)
  if redis.call('ZCARD', idx) >= tonumber(ARGV[7]) then return {'full'} end
end
local cache_until = num(ARGV[6])
redis.call('DEL', key)
redis.call('HSET', key, 'rec', rec, 'created', now, 'last_used', last_used or '', 'cache_until', ARGV[6])
local keep = client_keep(now, last_used, cache_until)
redis.call('ZADD', idx, keep, id)
expire_at(key, keep, now)
return {'ok'}
