-- Applies one batch of state changes, only for the current epoch's leader (the fence):
-- a deposed leader's write is refused, whatever it believes.
--
-- KEYS[1]  the epoch counter key        (corral:{cell}:epoch)
-- KEYS[2]  the state hash               (corral:{cell}:state)
-- KEYS[3]  the change log stream        (corral:{cell}:log)
-- ARGV[1]  the writer's epoch
-- ARGV[2]  number of puts N
-- ARGV[3 .. 2+2N]        field, value pairs to set
-- ARGV[3+2N ..]          fields to delete
--
-- Returns the change log entry id, or an error 'STALE_EPOCH …'.
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local writer = tonumber(ARGV[1])
if current ~= writer then
  return redis.error_reply('STALE_EPOCH current epoch is ' .. current .. ', the writer has ' .. ARGV[1])
end
local puts = tonumber(ARGV[2])
local entry = { 'epoch', ARGV[1] }
for i = 0, puts - 1 do
  local field = ARGV[3 + 2 * i]
  local value = ARGV[4 + 2 * i]
  redis.call('HSET', KEYS[2], field, value)
  table.insert(entry, 'put:' .. field)
  table.insert(entry, value)
end
for i = 3 + 2 * puts, #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[i])
  table.insert(entry, 'del:' .. ARGV[i])
  table.insert(entry, '')
end
return redis.call('XADD', KEYS[3], 'MAXLEN', '~', '100000', '*', unpack(entry))
