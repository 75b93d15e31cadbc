--[[
  Lines appended to a job's log while the attempt writing them is still the job's current one: a
  worker whose attempt BullMQ declared stalled keeps no say in the log of the attempt that replaced it.
  The append is announced on a channel, so followers of the log read it at once instead of polling.
  The lines come as one argument, joined by newlines (JobLog stores none in a line): the worker then
  builds one RESP argument per batch instead of one per line, which was most of its CPU per line.

  KEYS[1] the job's log (a list)
  KEYS[2] the build's hash
  ARGV[1] the job's state field (JSON with its `attempt`)
  ARGV[2] the attempt writing
  ARGV[3] the channel appends are announced on (the message: the log's key)
  ARGV[4] the lines, joined by "\n"

  Returns the log's length, or -1 when another attempt has the job (nothing appended).
]]
local state = redis.call('HGET', KEYS[2], ARGV[1])
if not state or tostring(cjson.decode(state).attempt) ~= ARGV[2] then return -1 end
local text = ARGV[4]
local lines, n, at, length = {}, 0, 1, 0
-- Pushed a few thousand at a time: unpack() is limited by Lua's C stack.
while true do
  local nl = string.find(text, '\n', at, true)
  n = n + 1
  lines[n] = string.sub(text, at, (nl or 0) - 1)
  if n == 4000 or not nl then
    length = redis.call('RPUSH', KEYS[1], unpack(lines, 1, n))
    n = 0
  end
  if not nl then break end
  at = nl + 1
end
redis.call('PUBLISH', ARGV[3], KEYS[1])
return length
