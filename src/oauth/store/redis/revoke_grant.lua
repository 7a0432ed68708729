-- ARGV: prefix, family
remove_grant(ARGV[2])
return {'ok'}
