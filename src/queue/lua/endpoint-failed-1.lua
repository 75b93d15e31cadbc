--[[
  Records a failed delivery attempt of an endpoint: the first failure of a run sets failing_since;
  a success clears it (EndpointStore.recordOutcome).

  KEYS[1] the endpoint's hash
  ARGV[1] now (ms)

  Returns the start of the run of failures, or nil when the endpoint does not exist.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local since = redis.call('HGET', KEYS[1], 'failing_since')
if not since or since == '' then
  redis.call('HSET', KEYS[1], 'failing_since', ARGV[1])
  return ARGV[1]
end
return since
