--[[
  Lines appended to a job's log while the attempt writing them is still the job's current one: a
  worker whose attempt BullMQ declared stalled keeps no say in the log of the attempt that replaced it.
  The append is announced on a channel, so followers of the log read it at once instead of polling.

  KEYS[1] the job's log (a list)
  KEYS[2] the build's hash
  ARGV[1] the job's state field (JSON with its `attempt`)
  ARGV[2] the attempt writing
  ARGV[3] the channel appends are announced on (the message: the log's key)
  ARGV[4...] the lines

  Returns the log's length, or -1 when another attempt has the job (nothing appended).
]]
local state = redis.call('HGET', KEYS[2], ARGV[1])
if not state or tostring(cjson.decode(state).attempt) ~= ARGV[2] then return -1 end
local length = redis.call('RPUSH', KEYS[1], unpack(ARGV, 4))
redis.call('PUBLISH', ARGV[3], KEYS[1])
return length
