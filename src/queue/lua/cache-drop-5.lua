--[[
  Removes one saved cache from the index; only the caller that removes it from the LRU set frees its
  bytes (no double count).

  KEYS[1] every ready cache by its last use (a sorted set of ids)
  KEYS[2] the bytes all ready caches hold
  KEYS[3] the cache's own hash (key, version, size, state, scope, …)
  KEYS[4] its scope: the hash of its repository and ref (`<version>\n<key>` -> id)
  KEYS[5] caches being saved, by when their upload started (a sorted set of ids)
  ARGV[1] the cache's id
  ARGV[2] its field in KEYS[4] (`<version>\n<key>`)

  Returns 1 when this call removed it from KEYS[1], 0 otherwise.
]]
local size = tonumber(redis.call('HGET', KEYS[3], 'size') or '0')
local ready = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
if redis.call('HGET', KEYS[4], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[4], ARGV[2]) end
redis.call('DEL', KEYS[3])
if ready == 1 then redis.call('DECRBY', KEYS[2], size) end
return ready
