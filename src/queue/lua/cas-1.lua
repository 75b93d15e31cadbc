--[[
  Compare-and-set of one field of a build, then the whole hash: one round trip per state transition,
  atomic across every process that shares the Redis.

  KEYS[1] the build's hash
  ARGV[1] the field compared
  ARGV[2] the values it may hold, as ",a,b,"
  ARGV[3...] field, value pairs set when it holds one of them

  Returns {1 or 0 (set or not), the hash's fields and values...}.
]]
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local ok = 0
if cur and string.find(ARGV[2], ',' .. cur .. ',', 1, true) then
  ok = 1
  for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
local all = redis.call('HGETALL', KEYS[1])
table.insert(all, 1, ok)
return all
