-- Gives the lease up early (a graceful stop hands it over), only if the caller still holds it.
--
-- KEYS[1]  the leader lease key
-- KEYS[2]  the holder's connection id key
-- ARGV[1]  '<holder id>/<epoch>'
--
-- Returns 1 when released, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
  return redis.call('DEL', KEYS[1])
end
return 0
