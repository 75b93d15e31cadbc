--[[
  One page of a time index (a sorted set scored by milliseconds), newest first, after a cursor. Entries
  of the same millisecond share a score and Redis orders them by member, so the cursor names both: a
  page never skips nor repeats an entry, however many share its millisecond. A cursor whose member has
  left the index (trimmed, or expired) still resumes exactly: at the entries scored below it, and those
  of its own score whose member sorts below it.

  KEYS[1] the index
  ARGV[1] the cursor's score, or '+inf' for the newest page
  ARGV[2] the cursor's member, or '' (a cursor of a score only: the entries scored below it)
  ARGV[3] how many entries

  Returns {member, score, member, score, ...}, newest first.
]]
-- Byte order, as Redis orders members (Lua's own < follows the server's locale).
local function atLeast(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a >= #b
end
local count = tonumber(ARGV[3])
if count < 1 then return {} end
local start = 0
if ARGV[1] ~= '+inf' then
  local rank = nil
  if ARGV[2] ~= '' then
    local at = redis.call('ZSCORE', KEYS[1], ARGV[2])
    if at and tonumber(at) == tonumber(ARGV[1]) then rank = redis.call('ZREVRANK', KEYS[1], ARGV[2]) end
  end
  if rank then
    start = rank + 1
  else
    -- Everything scored above the cursor, then its own millisecond's entries that sort above it.
    start = redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[1], '+inf')
    if ARGV[2] ~= '' then
      for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])) do
        if atLeast(m, ARGV[2]) then start = start + 1 end
      end
    else
      start = start + redis.call('ZCOUNT', KEYS[1], ARGV[1], ARGV[1])
    end
  end
end
return redis.call('ZREVRANGE', KEYS[1], start, start + count - 1, 'WITHSCORES')
