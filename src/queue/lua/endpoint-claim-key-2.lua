--[[
  Before the first secret is written with a key: claims the key id, unless secrets encrypted with
  another key exist (two processes with different keys must not both write).

  KEYS[1] the key id in use
  KEYS[2] the endpoints index
  ARGV[1] this process's key id

  Returns nil when claimed (or already ours), else the key id in use.
]]
local known = redis.call('GET', KEYS[1])
if known and known ~= ARGV[1] and redis.call('ZCARD', KEYS[2]) > 0 then return known end
redis.call('SET', KEYS[1], ARGV[1])
return false
