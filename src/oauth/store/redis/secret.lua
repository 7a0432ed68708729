-- ARGV: prefix, name, candidate: the first caller's candidate wins.
local key = k('secret', ARGV[2])
redis.call('SET', key, ARGV[3], 'NX')
return {redis.call('GET', key)}
