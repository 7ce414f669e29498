-- Appends one batch of state changes to the change log, only for the current epoch's
-- leader (the fence): a deposed leader's write is refused, whatever it believes. The log
-- is the state: a checkpoint plus the entries after it.
--
-- KEYS[1]  the epoch counter key        (corral:{cell}:epoch)
-- KEYS[2]  the change log stream        (corral:{cell}:log)
-- ARGV[1]  the writer's epoch
-- ARGV[2]  number of puts N
-- ARGV[3 .. 2+2N]        field, value pairs to set
-- ARGV[3+2N ..]          fields to delete
--
-- Returns the change log entry id, or an error 'STALE_EPOCH …'.
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current ~= tonumber(ARGV[1]) then
  return redis.error_reply('STALE_EPOCH current epoch is ' .. current .. ', the writer has ' .. ARGV[1])
end
local puts = tonumber(ARGV[2])
local entry = { 'epoch', ARGV[1] }
for i = 0, puts - 1 do
  table.insert(entry, 'put:' .. ARGV[3 + 2 * i])
  table.insert(entry, ARGV[4 + 2 * i])
end
for i = 3 + 2 * puts, #ARGV do
  table.insert(entry, 'del:' .. ARGV[i])
  table.insert(entry, '')
end
-- No MAXLEN: entries are trimmed only behind a checkpoint that holds them.
return redis.call('XADD', KEYS[2], '*', unpack(entry))
