-- Gives the lease up early (clean shutdown), only if the caller still holds it.
--
-- KEYS[1]  the leader lease key
-- ARGV[1]  '<holder id>/<epoch>'
--
-- Returns 1 when released, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
