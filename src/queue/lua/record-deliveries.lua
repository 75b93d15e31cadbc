--[[
  The delivery log's one write per turn of the worker's event loop: the attempts (or decisions not to
  send) of every delivery that finished one in that turn, each written exactly as DeliveryLog.record
  describes, in one atomic script. What each attempt owns (its delivery's hash and attempts list) is
  written per attempt; what attempts share (the counters, the hourly counters, the recent, endpoint and
  build indexes) is added up first and written once per key, and the bounded indexes are trimmed once
  per script: the same end state as writing the attempts one by one, in order (2 commands per
  attempt instead of 12 when a turn finishes many).

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
-- key -> { field -> increment }, key -> { field -> value } (the batch's last), key -> { score, member, ... }
local incr, set, zadd = {}, {}, {}
-- the hourly hashes to give a fresh expiry, the endpoint indexes to trim
local expire, trim = {}, {}
local function add(key, field, by)
  local h = incr[key]
  if not h then
    h = {}
    incr[key] = h
  end
  h[field] = (h[field] or 0) + by
end
local function put(key, field, value)
  local h = set[key]
  if not h then
    h = {}
    set[key] = h
  end
  h[field] = value
end
local function index(key, score, member)
  local z = zadd[key]
  if not z then
    z = {}
    zadd[key] = z
  end
  z[#z + 1] = score
  z[#z + 1] = member
end

for i = 1, n do
  local a = cjson.decode(ARGV[4 + i])
  local k = 2 + (i - 1) * 6
  local hash, list, byEndpoint, hourly, stats, byBuild =
    KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5], KEYS[k + 6]
  redis.call('HSET', hash, unpack(a.fields))
  redis.call('RPUSH', list, a.attempt)
  add(KEYS[1], a.state, 1)
  index(KEYS[2], a.at, a.id)
  index(byEndpoint, a.at, a.id)
  trim[byEndpoint] = true
  if byBuild ~= '' then
    index(byBuild, a.at, a.id)
  else
    redis.call('PEXPIRE', hash, ARGV[3])
    redis.call('PEXPIRE', list, ARGV[3])
  end
  if a.sent == 1 then
    add(KEYS[1], 'attempts', 1)
    add(hourly, a.hour .. (a.ok == 1 and ':ok' or ':fail'), 1)
    add(hourly, a.hour .. ':ms', tonumber(a.ms))
    expire[hourly] = true
    put(stats, a.ok == 1 and 'last_success_at' or 'last_failure_at', a.iso)
  end
  if a.state == 'delivered' or a.state == 'failed' or a.state == 'dropped' then
    add(stats, a.state, 1)
  end
end

for key, fields in pairs(incr) do
  for field, by in pairs(fields) do
    redis.call('HINCRBY', key, field, by)
  end
end
for key in pairs(expire) do
  redis.call('PEXPIRE', key, ARGV[4])
end
for key, fields in pairs(set) do
  local flat = {}
  for field, value in pairs(fields) do
    flat[#flat + 1] = field
    flat[#flat + 1] = value
  end
  redis.call('HSET', key, unpack(flat))
end
for key, members in pairs(zadd) do
  redis.call('ZADD', key, unpack(members))
end
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[2]) + 1))
for key in pairs(trim) do
  redis.call('ZREMRANGEBYRANK', key, 0, -(tonumber(ARGV[1]) + 1))
end
return n
