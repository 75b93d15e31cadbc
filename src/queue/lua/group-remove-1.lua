--[[
  Takes a build out of its concurrency group and reads what is left, in one atomic step.

  KEYS[1] the group (a sorted set of build ids)
  ARGV[1] build id

  Returns the group's remaining build ids, oldest first.
]]
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
