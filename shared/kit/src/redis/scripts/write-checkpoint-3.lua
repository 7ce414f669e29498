-- Makes a checkpoint whose chunks were written beforehand the cell's checkpoint, and trims
-- the change log behind the one before it, in one step. The chunks are written first, each
-- in a call of its own, so that Redis never holds up every other client while it takes a
-- checkpoint of hundreds of megabytes in one value (and no value comes near Redis's 512 MB
-- limit). The trim lags one checkpoint so that a standby following the log (always far less
-- than a checkpoint period behind) never has entries trimmed under it, and a recovery that
-- read the previous checkpoint still finds every entry after it. A checkpoint older than the
-- stored one (a slow writer) is dropped with its chunks.
--
-- KEYS[1]  the checkpoint hash     (corral:{cell}:checkpoint: position, chunks, chunkCount, trimmedTo)
-- KEYS[2]  the change log stream   (corral:{cell}:log)
-- KEYS[3]  the new checkpoint's chunks (a hash of "0" … "<count - 1>")
-- ARGV[1]  the log entry id the checkpoint covers ("<ms>-<seq>")
-- ARGV[2]  how many chunks it has
--
-- Returns 1 when stored, 0 when a newer checkpoint is already there, -1 when chunks are missing.
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local previous = redis.call('HGET', KEYS[1], 'position')
if previous then
  local previousMs, previousSeq = parse(previous)
  local newMs, newSeq = parse(ARGV[1])
  if newMs < previousMs or (newMs == previousMs and newSeq <= previousSeq) then
    redis.call('UNLINK', KEYS[3])
    return 0
  end
end
if redis.call('HLEN', KEYS[3]) ~= tonumber(ARGV[2]) then
  -- Expired or cut short: nothing is changed, and the writer says so.
  redis.call('UNLINK', KEYS[3])
  return -1
end
local previousChunks = redis.call('HGET', KEYS[1], 'chunks')
redis.call('PERSIST', KEYS[3])
redis.call('HSET', KEYS[1], 'position', ARGV[1], 'chunks', KEYS[3], 'chunkCount', ARGV[2])
-- A checkpoint of the layout before chunks kept its bytes here.
redis.call('HDEL', KEYS[1], 'data')
if previousChunks and previousChunks ~= KEYS[3] then
  -- Freed off Redis's main thread.
  redis.call('UNLINK', previousChunks)
end
if previous then
  -- MINID keeps the entry at the previous position itself; readers start after it.
  redis.call('XTRIM', KEYS[2], 'MINID', previous)
  redis.call('HSET', KEYS[1], 'trimmedTo', previous)
end
return 1
