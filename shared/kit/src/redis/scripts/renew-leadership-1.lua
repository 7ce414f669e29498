-- Extends the leader lease, only for the holder of this exact epoch.
--
-- KEYS[1]  the leader lease key
-- ARGV[1]  '<holder id>/<epoch>' as written by acquire-leadership
-- ARGV[2]  lease time to live, in milliseconds
--
-- Returns 1 when renewed, 0 when the lease is gone or held by someone else.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
