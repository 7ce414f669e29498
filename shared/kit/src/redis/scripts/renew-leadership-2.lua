-- Extends the leader lease, only for the holder of this exact epoch, and records the
-- connection it renews on (a reconnected holder has a new client id).
--
-- KEYS[1]  the leader lease key
-- KEYS[2]  the holder's connection id key
-- ARGV[1]  '<holder id>/<epoch>' as written by acquire-leadership
-- ARGV[2]  lease time to live, in milliseconds
-- ARGV[3]  the Redis client id of the renewing connection
--
-- Returns 1 when renewed, 0 when the lease is gone or held by someone else.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
  return 1
end
return 0
