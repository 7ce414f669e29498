-- Takes the cell's leader lease when nobody holds it, and opens a new epoch for the winner.
-- Doing both in one script means no two candidates can ever hold the same epoch.
--
-- KEYS[1]  the leader lease key     (corral:{cell}:lease)
-- KEYS[2]  the epoch counter key    (corral:{cell}:epoch)
-- ARGV[1]  the candidate's id
-- ARGV[2]  lease time to live, in milliseconds
--
-- Returns the new epoch, or 0 when another candidate holds the lease.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '/' .. epoch, 'PX', ARGV[2])
return epoch
