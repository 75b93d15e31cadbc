--[[
  The delivery log's one write per turn of the worker's event loop: the attempts (or decisions not to
  send) of every delivery that finished one in that turn, each written exactly as DeliveryLog.record
  describes, in one atomic script. The bounded indexes are trimmed once per script, not per attempt.

  KEYS[1] the deliveries counters (stats:deliveries)
  KEYS[2] the recent deliveries index
  KEYS[3...] per attempt, 6 keys: the delivery's hash, its attempts list, its endpoint's deliveries
    index, its endpoint's hourly counters (of the attempt's day), its endpoint's counters, its build's
    deliveries index ('' for a message that belongs to no build)
  ARGV[1] how many deliveries each endpoint's index keeps
  ARGV[2] how many the recent index keeps
  ARGV[3] how long the records of a message without a build are kept (ms)
  ARGV[4] how long an hourly counters hash is kept (ms)
  ARGV[5...] per attempt, one JSON object: { fields: [field, value, ...] (the delivery's hash),
    attempt (the attempt's JSON text), at (ms, a string), id, state, sent (0/1), ok (0/1),
    hour (0..23, a string), ms (the attempt's duration), iso (its time, ISO) }

  Returns the number of attempts written.
]]
local n = #ARGV - 4
local trim = {}
for i = 1, n do
  local a = cjson.decode(ARGV[4 + i])
  local k = 2 + (i - 1) * 6
  local hash, list, byEndpoint, hourly, stats, byBuild =
    KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5], KEYS[k + 6]
  redis.call('HSET', hash, unpack(a.fields))
  redis.call('RPUSH', list, a.attempt)
  redis.call('HINCRBY', KEYS[1], a.state, 1)
  redis.call('ZADD', KEYS[2], a.at, a.id)
  redis.call('ZADD', byEndpoint, a.at, a.id)
  trim[byEndpoint] = true
  if byBuild ~= '' then
    redis.call('ZADD', byBuild, a.at, a.id)
  else
    redis.call('PEXPIRE', hash, ARGV[3])
    redis.call('PEXPIRE', list, ARGV[3])
  end
  if a.sent == 1 then
    redis.call('HINCRBY', KEYS[1], 'attempts', 1)
    redis.call('HINCRBY', hourly, a.hour .. (a.ok == 1 and ':ok' or ':fail'), 1)
    redis.call('HINCRBY', hourly, a.hour .. ':ms', a.ms)
    redis.call('PEXPIRE', hourly, ARGV[4])
    redis.call('HSET', stats, a.ok == 1 and 'last_success_at' or 'last_failure_at', a.iso)
  end
  if a.state == 'delivered' or a.state == 'failed' or a.state == 'dropped' then
    redis.call('HINCRBY', stats, a.state, 1)
  end
end
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[2]) + 1))
for key in pairs(trim) do
  redis.call('ZREMRANGEBYRANK', key, 0, -(tonumber(ARGV[1]) + 1))
end
return n
