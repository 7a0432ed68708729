-- Shared by every script (prepended to each). ARGV[1] is the key prefix;
-- UNUSED_TTL, IDLE_TTL, USED_CODE_TTL and SWEEP_BATCH are defined above
-- this text by the Rust side. Times are unix seconds from the caller's
-- clock: records are judged by their own expiry, and Redis TTLs (set
-- relative to that clock) only collect what is dead.
local P = ARGV[1]
local function k(kind, id) return P .. kind .. ':' .. id end

-- Expires `key` when `until_` (caller's clock) is reached.
local function expire_at(key, until_, now)
  local secs = math.floor(until_ - now)
  if secs < 1 then secs = 1 end
  redis.call('EXPIRE', key, secs)
end

-- Bounded collections are counted by an index: a sorted set of member ->
-- expiry. Dead members are dropped before counting.
local function prune(idx, now)
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', now)
end
local function has_room(idx, cap, now)
  prune(idx, now)
  return redis.call('ZCARD', idx) < cap
end

local function client_keep(created, last_used, cache_until)
  local keep
  if last_used then keep = last_used + IDLE_TTL else keep = created + UNUSED_TTL end
  if cache_until and cache_until > keep then keep = cache_until end
  return keep
end

local function num(v)
  if v == false or v == nil or v == '' then return nil end
  return tonumber(v)
end

-- A token was issued to the client: it is in use, keep it longer.
local function touch_client(id, now)
  local key = k('client', id)
  local v = redis.call('HMGET', key, 'created', 'cache_until')
  if not v[1] then return end
  redis.call('HSET', key, 'last_used', now)
  local keep = client_keep(tonumber(v[1]), now, num(v[2]))
  redis.call('ZADD', k('idx', 'clients'), keep, id)
  expire_at(key, keep, now)
end

-- Clients and accounts are not read with a clock, so expired ones are
-- deleted here (as the memory store's sweep does).
local function expire_clients(now)
  local idx = k('idx', 'clients')
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', idx, '-inf', now, 'LIMIT', 0, SWEEP_BATCH)) do
    redis.call('DEL', k('client', id))
    redis.call('ZREM', idx, id)
  end
end

local function drop_consents(user)
  local key = k('consents', user)
  local idx = k('idx', 'consents')
  for _, field in ipairs(redis.call('HKEYS', key)) do
    redis.call('ZREM', idx, user .. '\n' .. field)
  end
  redis.call('DEL', key)
end

-- A later account of the same name must not inherit approvals: an account
-- goes with its consents.
local function expire_users(now)
  local idx = k('idx', 'users')
  for _, name in ipairs(redis.call('ZRANGEBYSCORE', idx, '-inf', now, 'LIMIT', 0, SWEEP_BATCH)) do
    redis.call('DEL', k('user', name))
    drop_consents(name)
    redis.call('ZREM', idx, name)
  end
end

local function expire_consents(now)
  local idx = k('idx', 'consents')
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', idx, '-inf', now, 'LIMIT', 0, SWEEP_BATCH)) do
    local user, field = string.match(m, '^([^\n]*)\n(.*)$')
    if user then redis.call('HDEL', k('consents', user), field) end
    redis.call('ZREM', idx, m)
  end
end

local function remove_pending(id, owner)
  redis.call('DEL', k('pending', id))
  redis.call('ZREM', k('idx', 'pending'), id)
  if owner then redis.call('ZREM', k('owner', owner), id) end
end

-- Revokes a grant: its access tokens, every refresh token it knew (so a
-- replay is recognised as nothing) and an unexchanged code.
local function remove_grant(f)
  local g = k('grant', f)
  local v = redis.call('HMGET', g, 'refresh', 'prev', 'code')
  local ats = k('grant-at', f)
  for _, h in ipairs(redis.call('LRANGE', ats, 0, -1)) do
    redis.call('DEL', k('at', h))
    redis.call('ZREM', k('idx', 'access'), h)
  end
  local retired = k('grant-retired', f)
  local rts = redis.call('LRANGE', retired, 0, -1)
  if v[1] and v[1] ~= '' then table.insert(rts, v[1]) end
  if v[2] and v[2] ~= '' then table.insert(rts, v[2]) end
  for _, h in ipairs(rts) do redis.call('DEL', k('refresh', h)) end
  if v[3] and v[3] ~= '' then
    redis.call('DEL', k('code', v[3]))
    redis.call('ZREM', k('idx', 'codes'), v[3])
  end
  redis.call('DEL', g, ats, retired)
  redis.call('ZREM', k('idx', 'grants'), f)
end

-- The access record as JSON, built from fields already JSON-safe
-- (cjson.encode quotes strings; scopes is the JSON array we stored).
local function access_json(f, user, client, scopes, resource, exp)
  return '{"family":' .. cjson.encode(f) .. ',"user":' .. cjson.encode(user)
    .. ',"client_id":' .. cjson.encode(client) .. ',"scopes":' .. scopes
    .. ',"resource":' .. cjson.encode(resource) .. ',"expires_at":' .. string.format('%d', exp) .. '}'
end

-- Adds an access token to a grant, dropping the grant's oldest beyond
-- `per_grant`. The caller checked the global room first.
local function add_access(f, h, json, exp, now, per_grant)
  local ats = k('grant-at', f)
  while redis.call('LLEN', ats) >= per_grant do
    local old = redis.call('LPOP', ats)
    redis.call('DEL', k('at', old))
    redis.call('ZREM', k('idx', 'access'), old)
  end
  redis.call('RPUSH', ats, h)
  redis.call('SET', k('at', h), json)
  expire_at(k('at', h), exp, now)
  redis.call('ZADD', k('idx', 'access'), exp, h)
end
