--[[
  An attempt's end: the compare-and-set of a job's status (as cas-1.lua), only while the attempt the
  job's details name is still the one that ends. A worker whose attempt BullMQ declared stalled may end
  it after a new attempt started; its result then changes nothing.

  KEYS[1] the build's hash
  ARGV[1] the job's status field
  ARGV[2] the values it may hold, as ",a,b,"
  ARGV[3] the job's state field (JSON with its `attempt`)
  ARGV[4] the attempt that ends
  ARGV[5...] field, value pairs set when both hold

  Returns {1 or 0 (set or not), the hash's fields and values...}.
]]
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local ok = 0
if cur and string.find(ARGV[2], ',' .. cur .. ',', 1, true) then
  local state = redis.call('HGET', KEYS[1], ARGV[3])
  if state and tostring(cjson.decode(state).attempt) == ARGV[4] then
    ok = 1
    for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  end
end
local all = redis.call('HGETALL', KEYS[1])
table.insert(all, 1, ok)
return all
