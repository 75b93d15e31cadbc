--[[
  Indexes an artifact, replacing one of that name (whose bytes leave the total), in one atomic step.

  KEYS[1] the build's artifacts (a hash: name -> info JSON with its size)
  KEYS[2] every stored artifact by when it was stored (a sorted set of `<build id>\n<name>`)
  KEYS[3] the bytes all stored artifacts hold
  KEYS[4] builds with artifacts by when they expire (a sorted set of build ids)
  ARGV[1] artifact name
  ARGV[2] its info (JSON)
  ARGV[3] its size in bytes
  ARGV[4] its member in KEYS[2] (`<build id>\n<name>`)
  ARGV[5] when it was stored (ms)
  ARGV[6] when the build's artifacts expire (ms; the expiry only moves later)
  ARGV[7] build id
]]
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then redis.call('DECRBY', KEYS[3], cjson.decode(old).size) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCRBY', KEYS[3], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
redis.call('ZADD', KEYS[4], 'GT', ARGV[6], ARGV[7])
