--[[
  An attempt's end: the compare-and-set of a job's status (as cas-1.lua), only while the attempt the
  job's details name is still the one that ends. A worker whose attempt BullMQ declared stalled may end
  it after a new attempt started; its result then changes nothing. When it is set, the job's duration is
  counted in the histogram of /metrics in the same call: with `appendfsync always` every separate batch
  of writes is a sync of Redis's file.

  KEYS[1] the build's hash
  KEYS[2] the job duration histogram's hash
  ARGV[1] the job's status field
  ARGV[2] the values it may hold, as ",a,b,"
  ARGV[3] the job's state field (JSON with its `attempt`)
  ARGV[4] the attempt that ends
  ARGV[5] the histogram's bucket field for the duration (`le:<seconds>`), or '' to count nothing
  ARGV[6] the duration in seconds
  ARGV[7...] field, value pairs set when both hold

  Returns {1 or 0 (set or not), the hash's fields and values...}.
]]
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local ok = 0
if cur and string.find(ARGV[2], ',' .. cur .. ',', 1, true) then
  local state = redis.call('HGET', KEYS[1], ARGV[3])
  if state and tostring(cjson.decode(state).attempt) == ARGV[4] then
    ok = 1
    -- Counted first: a duration Redis refuses fails the call before the job has moved.
    if ARGV[5] ~= '' then
      redis.call('HINCRBYFLOAT', KEYS[2], 'sum', ARGV[6])
      redis.call('HINCRBY', KEYS[2], ARGV[5], 1)
      redis.call('HINCRBY', KEYS[2], 'count', 1)
    end
    for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  end
end
local all = redis.call('HGETALL', KEYS[1])
table.insert(all, 1, ok)
return all
