--[[
  Keeps the records of the webhooks received in one event-loop turn (the "why" view) in one command:
  each record under its own expiring key, indexed by arrival time, the index trimmed to the newest
  `max` and to the retention.

  KEYS[1] the index of received webhooks (a sorted set of record ids by arrival time, ms)
  KEYS[2...] per record: its key
  ARGV[1] max: records the index keeps
  ARGV[2] ttl (ms): how long a record is kept
  ARGV[3] now (ms)
  ARGV[4...] per record (in KEYS order): its id, its arrival time (ms), its JSON

  Returns the number of records stored.
]]
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS do
  local a = 4 + (i - 2) * 3
  redis.call('SET', KEYS[i], ARGV[a + 2], 'PX', ttl)
  redis.call('ZADD', KEYS[1], ARGV[a + 1], ARGV[a])
end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[1]) - 1)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[3]) - ttl)
return #KEYS - 1
