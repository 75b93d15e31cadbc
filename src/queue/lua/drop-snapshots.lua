--[[
  Drops pipeline snapshots no stored build uses: every build of a snapshot was created no later than
  the snapshot's score (the newest use), so one older than the oldest stored build is used by none. The
  check is repeated here, atomically, so a build created meanwhile keeps its snapshot.

  KEYS[1] the builds index
  KEYS[2] the snapshot index (ref by newest use)
  KEYS[3...] the snapshot keys, one per ref in ARGV
  ARGV[1...] the snapshot refs

  Returns how many snapshots it dropped.
]]
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local dropped = 0
for i, ref in ipairs(ARGV) do
  local used = redis.call('ZSCORE', KEYS[2], ref)
  if used and (#oldest == 0 or tonumber(used) < tonumber(oldest[2])) then
    redis.call('DEL', KEYS[i + 2])
    redis.call('ZREM', KEYS[2], ref)
    dropped = dropped + 1
  end
end
return dropped
