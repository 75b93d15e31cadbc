--[[
  Takes one of a pipeline's `concurrency.max` slots for a job; expired holders (a dead worker's) are
  dropped before counting. A job that holds a slot already keeps it.

  KEYS[1] the pipeline's slots (a sorted set: queue job id by expiry)
  ARGV[1] now (ms)
  ARGV[2] expiry of this hold (ms)
  ARGV[3] queue job id
  ARGV[4] max slots

  Returns 1 when the slot is held, 0 when all are taken.
]]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  return 1
end
return 0
