-- ARGV: prefix, id, max_posts, now
local id, max, now = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local v = redis.call('HMGET', k('pending', id), 'rec', 'posts', 'exp', 'owner')
if not v[1] then return {} end
if tonumber(v[3]) <= now or tonumber(v[2]) >= max then
  remove_pending(id, v[4])
  return {}
end
local n = redis.call('HINCRBY', k('pending', id), 'posts', 1)
return {v[1], tostring(n)}
