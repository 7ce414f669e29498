-- Takes the cell's leader lease and opens a new epoch for the winner, in one step, so no
-- two candidates can ever hold the same epoch. The lease is free when nobody holds it, or
-- when the caller saw the holder's Redis connection closed: a dead process's connection
-- is closed by its kernel at once, so a standby need not wait out a long lease to replace
-- it. Safety never rests on this: the epoch fence refuses the old holder's writes anyway.
--
-- KEYS[1]  the leader lease key              (corral:{cell}:lease)
-- KEYS[2]  the epoch counter key             (corral:{cell}:epoch)
-- KEYS[3]  the holder's connection id key    (corral:{cell}:lease-connection)
-- ARGV[1]  the candidate's id
-- ARGV[2]  lease time to live, in milliseconds
-- ARGV[3]  the candidate's Redis client id (CLIENT ID)
-- ARGV[4]  optional: the holder ('<id>/<epoch>') the caller saw gone
-- ARGV[5]  optional: that holder's connection id, as the caller saw it closed
--
-- Returns the new epoch, or 0 when the lease is held (by someone else than the holder seen gone).
local holder = redis.call('GET', KEYS[1])
if holder then
  if #ARGV < 5 or holder ~= ARGV[4] or redis.call('GET', KEYS[3]) ~= ARGV[5] then
    return 0
  end
end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '/' .. epoch, 'PX', ARGV[2])
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[2])
return epoch
