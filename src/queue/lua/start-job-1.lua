--[[
  A job's start in one round trip: the compare-and-set of the job's status (as cas-1.lua) and, only
  when the job moved and its build is still queued with no cancel asked for, the build's move to
  running; then the whole hash.

  KEYS[1] the build's hash
  ARGV[1] the job's status field
  ARGV[2] the values it may hold, as ",a,b,"
  ARGV[3] the job's new status
  ARGV[4] the job's state field
  ARGV[5] the job's new state (JSON)
  ARGV[6] the build's status it moves from
  ARGV[7] the build's new status
  ARGV[8] the build's started_at

  Returns {1 or 0 (the job moved or not), 1 or 0 (the build moved or not), the hash's fields and values...}.
]]
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local job, build = 0, 0
if cur and string.find(ARGV[2], ',' .. cur .. ',', 1, true) then
  job = 1
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3], ARGV[4], ARGV[5])
  local cancel = redis.call('HGET', KEYS[1], 'cancel_reason')
  if redis.call('HGET', KEYS[1], 'status') == ARGV[6] and (not cancel or cancel == '') then
    build = 1
    redis.call('HSET', KEYS[1], 'status', ARGV[7], 'started_at', ARGV[8], 'reason', '')
  end
end
local all = redis.call('HGETALL', KEYS[1])
table.insert(all, 1, build)
table.insert(all, 1, job)
return all
