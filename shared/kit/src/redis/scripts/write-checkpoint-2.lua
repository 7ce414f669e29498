-- Stores a checkpoint and trims the change log behind the one before it, in one step. The
-- trim lags one checkpoint so that a standby following the log (always far less than a
-- checkpoint period behind) never has entries trimmed under it, and a recovery that read
-- the previous checkpoint still finds every entry after it. A checkpoint older than the
-- stored one (a slow writer) is dropped.
--
-- KEYS[1]  the checkpoint hash     (corral:{cell}:checkpoint: position, data, trimmedTo)
-- KEYS[2]  the change log stream   (corral:{cell}:log)
-- ARGV[1]  the log entry id the checkpoint covers ("<ms>-<seq>")
-- ARGV[2]  the encoded checkpoint
--
-- Returns 1 when stored, 0 when a newer checkpoint is already there.
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local previous = redis.call('HGET', KEYS[1], 'position')
if previous then
  local previousMs, previousSeq = parse(previous)
  local newMs, newSeq = parse(ARGV[1])
  if newMs < previousMs or (newMs == previousMs and newSeq <= previousSeq) then
    return 0
  end
end
redis.call('HSET', KEYS[1], 'position', ARGV[1], 'data', ARGV[2])
if previous then
  -- MINID keeps the entry at the previous position itself; readers start after it.
  redis.call('XTRIM', KEYS[2], 'MINID', previous)
  redis.call('HSET', KEYS[1], 'trimmedTo', previous)
end
return 1
