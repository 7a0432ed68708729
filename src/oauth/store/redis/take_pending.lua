-- ARGV: prefix, id, now
local id, now = ARGV[2], tonumber(ARGV[3])
local v = redis.call('HMGET', k('pending', id), 'rec', 'posts', 'exp', 'owner')
if not v[1] then return {} end
remove_pending(id, v[4])
if tonumber(v[3]) <= now then return {} end
return {v[1], v[2]}
