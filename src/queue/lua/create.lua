--[[
  The intake's one Redis call: every delivery of a batch (the webhooks that arrived within one turn of
  the event loop), each all or nothing and independent of the others, in one atomic script.

  Per delivery: when it has a seen record, its de-duplication (a second receipt, here or at another
  instance at the same moment, creates nothing and gets the record back); the builds (number, record,
  indexes); the BullMQ jobs that need nothing, added by BullMQ's own script (bullmqAddStandardJob, put
  before this file); and the live event for dashboards. A build refers to its pipeline snapshot by ref;
  the text is sent only when the caller has not stored it yet, and if the snapshot is gone (retention
  dropped it) nothing of that delivery is written and it answers 2, so the caller sends it again with
  the text.

  KEYS[1] the builds index
  KEYS[2] the active builds index
  KEYS[3] the snapshot index
  KEYS[4] .. KEYS[12] the jobs queue's keys, in bullmqAddStandardJob's order
  KEYS[13...] per delivery: its seen key, its body's seen key, then per build: its hash, its pipeline's
    counter, its pipeline's index, its snapshot
  ARGV[1] the live events channel
  ARGV[2] the jobs queue's key prefix
  ARGV[3] now (ms)
  ARGV[4] the options of every queued job, without its id (JSON)
  ARGV[5...] one JSON object per delivery:
    { seen?: { value, ttl (ms), bodyTtl? (ms: the body's seen key is checked and recorded too) },
      builds: [ { id, score (ms, a string), ref, text? (the snapshot, when not stored yet),
                  fields: [field, value, ...] (the hash), live? (the live event's JSON up to its
                  closing brace, ending in "number":), jobs: [ [name, job id, data JSON], ... ] } ] }

  A body's seen key names the exact verified bytes (per forge and repository): a forge signs only the
  body, so a captured delivery resent with a new delivery id is caught there.

  Returns one entry per delivery: {1, numbers...} created, {0, seen value} seen before, {0, seen value,
  1} its body seen before under another delivery id (a replay), {2} a snapshot is missing.
]]
local jobKeys = {}
for i = 4, 12 do jobKeys[i - 3] = KEYS[i] end
local jobPrefix, jobTime, jobOpts = ARGV[2], tonumber(ARGV[3]), cjson.decode(ARGV[4])

local function queueJob(name, id, data)
  jobOpts.jobId = id
  -- Packed in Lua, so every argument the caller sends stays a string (ioredis writes a command of
  -- strings in one piece; with a binary argument it writes it piece by piece).
  return bullmqAddStandardJob(jobKeys, {
    cmsgpack.pack({jobPrefix, id, name, jobTime}),
    data,
    cmsgpack.pack(jobOpts),
  })
end

local out = {}
local present = {}
local newest = {}
local k = 13
for a = 5, #ARGV do
  local delivery = cjson.decode(ARGV[a])
  local seenKey, bodyKey = KEYS[k], KEYS[k + 1]
  k = k + 2
  local verdict = nil
  for i, b in ipairs(delivery.builds) do
    if not b.text and not present[b.ref] then
      if redis.call('EXISTS', KEYS[k + 4 * (i - 1) + 3]) == 0 then verdict = {2} else present[b.ref] = true end
    end
  end
  local seen = delivery.seen
  if not verdict and seen then
    if not redis.call('SET', seenKey, seen.value, 'NX', 'PX', seen.ttl) then
      verdict = {0, redis.call('GET', seenKey)}
    elseif seen.bodyTtl and not redis.call('SET', bodyKey, seen.value, 'NX', 'PX', seen.bodyTtl) then
      -- One command for a new body (the usual case); only a replay reads the first receipt.
      redis.call('DEL', seenKey)
      verdict = {0, redis.call('GET', bodyKey), 1}
    end
  end
  local result = verdict or {1}
  for _, b in ipairs(delivery.builds) do
    if not verdict then
      if b.text then
        redis.call('SET', KEYS[k + 3], b.text)
        present[b.ref] = true
      end
      if not newest[b.ref] or tonumber(newest[b.ref]) < tonumber(b.score) then newest[b.ref] = b.score end
      local n = redis.call('INCR', KEYS[k + 1])
      redis.call('HSET', KEYS[k], 'number', n, unpack(b.fields))
      redis.call('ZADD', KEYS[1], b.score, b.id)
      redis.call('ZADD', KEYS[2], b.score, b.id)
      redis.call('ZADD', KEYS[k + 2], b.score, b.id)
      for _, job in ipairs(b.jobs) do queueJob(job[1], job[2], job[3]) end
      if b.live then redis.call('PUBLISH', ARGV[1], b.live .. n .. '}') end
      table.insert(result, n)
    end
    k = k + 4
  end
  table.insert(out, result)
end
-- Each snapshot's score is the creation time of the newest build that uses it (retention reads it).
for ref, score in pairs(newest) do
  local used = redis.call('ZSCORE', KEYS[3], ref)
  if not used or tonumber(used) < tonumber(score) then redis.call('ZADD', KEYS[3], score, ref) end
end
return out
