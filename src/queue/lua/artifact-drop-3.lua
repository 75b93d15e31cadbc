--[[
  Removes one artifact from the index; only the caller that removes it frees its bytes (no double count).

  KEYS[1] the build's artifacts (a hash: name -> info JSON with its size)
  KEYS[2] every stored artifact by when it was stored (a sorted set of `<build id>\n<name>`)
  KEYS[3] the bytes all stored artifacts hold
  ARGV[1] artifact name
  ARGV[2] its member in KEYS[2] (`<build id>\n<name>`)

  Returns 1 when this call removed it, 0 when it was not indexed.
]]
redis.call('ZREM', KEYS[2], ARGV[2])
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DECRBY', KEYS[3], cjson.decode(old).size)
return 1
