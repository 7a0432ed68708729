-- ARGV: prefix, id, rec, owner, expires_at, now, cap, per_owner
local id, owner, exp, now = ARGV[2], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local idx, mine = k('idx', 'pending'), k('owner', owner)
prune(mine, now)
if redis.call('ZCARD', mine) >= tonumber(ARGV[8]) then return {'owner_full'} end
if not has_room(idx, tonumber(ARGV[7]), now) then return {'full'} end
local key = k('pending', id)
-- Ids are random; a collision replaces, and must not leak a count.
local old = redis.call('HGET', key, 'owner')
if old then redis.call('ZREM', k('owner', old), id) end
redis.call('DEL', key)
redis.call('HSET', key, 'rec', ARGV[3], 'posts', 0, 'owner', owner, 'exp', exp)
expire_at(key, exp, now)
redis.call('ZADD', idx, exp, id)
redis.call('ZADD', mine, exp, id)
if redis.call('TTL', mine) < exp - now then expire_at(mine, exp, now) end
return {'ok'}
