--[[
  The intake's one Redis call: every delivery of a batch (the webhooks that arrived within one turn of
  the event loop), each all or nothing and independent of the others, in one atomic script.

  Per delivery: when it has a seen record, its de-duplication (a second receipt, here or at another
  instance at the same moment, creates nothing and gets the record back); the builds (number, record,
  indexes); the BullMQ jobs that need nothing (written as BullMQ's add-job script writes them, see
  queueJobs below); and the live event for dashboards. A build refers to its pipeline snapshot by ref;
  the text is sent only when the caller has not stored it yet, and if the snapshot is gone (retention
  dropped it) nothing of that delivery is written and it answers 2, so the caller sends it again with
  the text.

  KEYS[1] the builds index
  KEYS[2] the active builds index
  KEYS[3] the snapshot index
  KEYS[4] .. KEYS[12] the jobs queue's keys, in the order of BullMQ's add-job script (addStandardJob-9)
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
local jobPrefix, jobTime, jobOpts = ARGV[2], tonumber(ARGV[3]), cjson.decode(ARGV[4])

--[[
  The jobs of the whole call, added as BullMQ 6.7's add-job script (addStandardJob-9.lua) adds a plain
  job (no parent, delay, priority, repeat or deduplication; FIFO): the same job hash, the same list,
  marker and events, and its id counter moved as far. That script, called once per job, read the
  queue's meta, counted the id and set the marker for every job: 9 commands a job, the dearest part of
  a push in Redis. Here what is the same for every job of a call is done once, 4 commands a job remain.
  test/integration/queued-job.test.ts compares the result with Queue.add's, and queued-job.ts refuses
  to start with a BullMQ whose script is not the one this follows.
]]
local function queueJobs(jobs)
  if #jobs == 0 then return end
  local waitKey, metaKey, idKey, activeKey, eventsKey, markerKey =
    KEYS[4], KEYS[6], KEYS[7], KEYS[10], KEYS[11], KEYS[12]
  redis.call('INCRBY', idKey, #jobs)
  local maxEvents = redis.call('HGET', metaKey, 'opts.maxLenEvents')
  if not maxEvents then
    maxEvents = 10000
    redis.call('HSET', metaKey, 'opts.maxLenEvents', maxEvents)
  end
  local ids = {}
  for _, job in ipairs(jobs) do
    local name, id, data = job[1], job[2], job[3]
    local jobKey = jobPrefix .. id
    if redis.call('EXISTS', jobKey) == 1 then
      -- A build's job ids are new with it, so this is never expected; BullMQ's answer to a known id.
      redis.call('XADD', eventsKey, 'MAXLEN', '~', maxEvents, '*', 'event', 'duplicated', 'jobId', id)
    else
      jobOpts.jobId = id
      redis.call('HMSET', jobKey, 'name', name, 'data', data, 'opts', cjson.encode(jobOpts),
        'timestamp', jobTime, 'delay', 0, 'priority', 0)
      redis.call('XADD', eventsKey, '*', 'event', 'added', 'jobId', id, 'name', name)
      redis.call('XADD', eventsKey, 'MAXLEN', '~', maxEvents, '*', 'event', 'waiting', 'jobId', id)
      table.insert(ids, id)
    end
  end
  if #ids == 0 then return end
  -- In order, as one LPUSH per job would leave them; in slices, as Lua's unpack takes a few thousand.
  for i = 1, #ids, 1000 do redis.call('LPUSH', waitKey, unpack(ids, i, math.min(i + 999, #ids))) end
  -- A paused queue, or one at its global concurrency, gets no marker: its workers are not woken.
  local paused, concurrency = unpack(redis.call('HMGET', metaKey, 'paused', 'concurrency'))
  if not paused and not (concurrency and redis.call('LLEN', activeKey) >= tonumber(concurrency)) then
    redis.call('ZADD', markerKey, 0, '0')
  end
end

local out = {}
local jobs = {}
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
      for _, job in ipairs(b.jobs) do table.insert(jobs, job) end
      if b.live then redis.call('PUBLISH', ARGV[1], b.live .. n .. '}') end
      table.insert(result, n)
    end
    k = k + 4
  end
  table.insert(out, result)
end
queueJobs(jobs)
-- Each snapshot's score is the creation time of the newest build that uses it (retention reads it).
for ref, score in pairs(newest) do
  local used = redis.call('ZSCORE', KEYS[3], ref)
  if not used or tonumber(used) < tonumber(score) then redis.call('ZADD', KEYS[3], score, ref) end
end
return out
