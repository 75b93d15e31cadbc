--[[
  An attempt's end: the compare-and-set of a job's status (as cas-1.lua), only while the attempt the
  job's details name is still the one that ends. A worker whose attempt BullMQ declared stalled may end
  it after a new attempt started; its result then changes nothing. When it is set, the job's duration is
  counted in the histogram of /metrics in the same call, and, when the job was its build's last one to
  end, the build's own compare-and-set to its result: with `appendfsync always` every separate batch
  of writes is a sync of Redis's file.

  The build ends here only while every other job still holds the final status the caller computed the
  build's result from (ARGV[14...]) and no cancel was asked for (its reason would be the build's);
  otherwise the caller ends it as before, from the hash this returns.

  KEYS[1] the build's hash
  KEYS[2] the job duration histogram's hash
  ARGV[1] the job's status field
  ARGV[2] the values it may hold, as ",a,b,"
  ARGV[3] the job's state field (JSON with its `attempt`)
  ARGV[4] the attempt that ends
  ARGV[5] the histogram's bucket field for the duration (`le:<seconds>`), or '' to count nothing
  ARGV[6] the duration in seconds
  ARGV[7] the job's new status
  ARGV[8] the job's new state (JSON)
  ARGV[9] the build's result when this job ends it, or '' to leave the build as it is
  ARGV[10] the build statuses it may end from, as ",a,b,"
  ARGV[11] the build's reason ('' for none)
  ARGV[12] the build's finished_at
  ARGV[13] the build's started_at, set only when it has none ('' to set none)
  ARGV[14...] field, status pairs: each other job's status field and the status it must hold

  Returns {1 or 0 (job set or not), 1 or 0 (build ended or not), the build's status, reason,
  finished_at and started_at before it ended (nil where absent), the hash's fields and values...}.
]]
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local ok = 0
local ended = 0
local before = { false, false, false, false }
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
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[7], ARGV[3], ARGV[8])
    if ARGV[9] ~= '' then
      local status = redis.call('HGET', KEYS[1], 'status')
      local cancel = redis.call('HGET', KEYS[1], 'cancel_reason')
      local last = status and string.find(ARGV[10], ',' .. status .. ',', 1, true) and (not cancel or cancel == '')
      for i = 14, #ARGV, 2 do
        if last and redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then last = false end
      end
      if last then
        ended = 1
        before = redis.call('HMGET', KEYS[1], 'status', 'reason', 'finished_at', 'started_at')
        redis.call('HSET', KEYS[1], 'status', ARGV[9], 'reason', ARGV[11], 'finished_at', ARGV[12])
        if ARGV[13] ~= '' and (not before[4] or before[4] == '') then
          redis.call('HSET', KEYS[1], 'started_at', ARGV[13])
        end
      end
    end
  end
end
local all = redis.call('HGETALL', KEYS[1])
local out = { ok, ended, before[1], before[2], before[3], before[4] }
for i = 1, #all do out[#out + 1] = all[i] end
return out
