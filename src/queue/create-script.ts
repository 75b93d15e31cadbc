import { ADD_JOB_LUA, QUEUE_JOB_LUA } from './queued-job.ts';

/**
 * The intake's one Redis call: every delivery of a batch (the webhooks that arrived within one turn of
 * the event loop), each all or nothing and independent of the others, in one atomic script.
 *
 * Per delivery: when a delivery id is given, its de-duplication record (a second receipt, here or at
 * another instance at the same moment, creates nothing and gets the record back); the builds (number,
 * record, indexes); the BullMQ jobs that need nothing, added by BullMQ's own script; and the live event
 * for dashboards. A build refers to its pipeline snapshot by ref; the text is sent only when this
 * process has not stored it yet, and if the snapshot is gone (retention dropped it) nothing of that
 * delivery is written and it answers 2, so the caller sends it again with the text.
 *
 *   KEYS: index, active, snapshot index, the jobs queue's 9 BullMQ keys, then per delivery its seen
 *         key and per build: its hash, its pipeline's counter, its pipeline's index, its snapshot
 *   ARGV: events channel, jobs queue key prefix, now (ms), job options without the id (JSON), then
 *         per delivery: use-seen (0/1), seen value, seen ttl ms, build count, then per build: id,
 *         score, snapshot ref, snapshot text or '', field count, fields..., live event head or '' (the
 *         build's number and '}' complete it), job count, then per job: name, job id, data (JSON)
 *   Returns one entry per delivery: {1, numbers...} created, {0, seen value} seen before, {2} snapshot
 *   missing.
 */
export const CREATE_LUA = `${ADD_JOB_LUA}
local jobKeys = {}
for i = 4, 12 do jobKeys[i - 3] = KEYS[i] end
local jobPrefix, jobTime, jobOpts = ARGV[2], tonumber(ARGV[3]), cjson.decode(ARGV[4])
${QUEUE_JOB_LUA}
local out = {}
local present = {}
local newest = {}
local a, k = 5, 13
while a <= #ARGV do
  local useSeen, seenValue, seenTtl, count = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
  local seenKey = KEYS[k]
  a, k = a + 4, k + 1
  local verdict = nil
  local pa, pk = a, k
  for _ = 1, count do
    local ref, nf = ARGV[pa + 2], tonumber(ARGV[pa + 4])
    if ARGV[pa + 3] == '' and not present[ref] then
      if redis.call('EXISTS', KEYS[pk + 3]) == 0 then verdict = {2} else present[ref] = true end
    end
    pa, pk = pa + 7 + nf + 3 * tonumber(ARGV[pa + 6 + nf]), pk + 4
  end
  if not verdict and useSeen == '1' and not redis.call('SET', seenKey, seenValue, 'NX', 'PX', seenTtl) then
    verdict = {0, redis.call('GET', seenKey)}
  end
  local result = verdict or {1}
  for _ = 1, count do
    local id, score, ref, text, nf = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], tonumber(ARGV[a + 4])
    local live, jobs = ARGV[a + 5 + nf], tonumber(ARGV[a + 6 + nf])
    if not verdict then
      if text ~= '' then
        redis.call('SET', KEYS[k + 3], text)
        present[ref] = true
      end
      if not newest[ref] or tonumber(newest[ref]) < tonumber(score) then newest[ref] = score end
      local n = redis.call('INCR', KEYS[k + 1])
      redis.call('HSET', KEYS[k], 'number', n, unpack(ARGV, a + 5, a + 4 + nf))
      redis.call('ZADD', KEYS[1], score, id)
      redis.call('ZADD', KEYS[2], score, id)
      redis.call('ZADD', KEYS[k + 2], score, id)
      local j = a + 7 + nf
      for _ = 1, jobs do
        queueJob(ARGV[j], ARGV[j + 1], ARGV[j + 2])
        j = j + 3
      end
      if live ~= '' then redis.call('PUBLISH', ARGV[1], live .. n .. '}') end
      table.insert(result, n)
    end
    a, k = a + 7 + nf + 3 * jobs, k + 4
  end
  table.insert(out, result)
end
-- Each snapshot's score is the creation time of the newest build that uses it (retention reads it).
for ref, score in pairs(newest) do
  local used = redis.call('ZSCORE', KEYS[3], ref)
  if not used or tonumber(used) < tonumber(score) then redis.call('ZADD', KEYS[3], score, ref) end
end
return out
`;
