--[[
  Puts a build in its concurrency group and reads the group in the same atomic step, so an arriving
  build and a finishing one always see each other (no build waits for a group already released).

  KEYS[1] the group (a sorted set of build ids)
  ARGV[1] score (the build's creation time, ms)
  ARGV[2] build id

  Returns the group's build ids, oldest first.
]]
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
return redis.call('ZRANGE', KEYS[1], 0, -1)
