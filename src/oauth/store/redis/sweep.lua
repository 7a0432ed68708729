-- ARGV: prefix, now. Records with a clock in their reads expire by TTL;
-- this drops what is read without one, and the dead entries of the indexes.
local now = tonumber(ARGV[2])
expire_clients(now)
expire_users(now)
expire_consents(now)
for _, name in ipairs({'pending', 'sessions', 'codes', 'grants', 'access', 'throttles'}) do
  prune(k('idx', name), now)
end
return {'ok'}
