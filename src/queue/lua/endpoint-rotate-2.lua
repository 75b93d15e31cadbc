--[[
  Rotates an endpoint's secret in one step: the current ciphertext becomes the previous one (both are
  bound to the same endpoint id, so it stays valid), the new one takes its place.

  KEYS[1] the endpoint's hash
  KEYS[2] the endpoints version counter
  ARGV[1] the new secret (encrypted)
  ARGV[2] until when the previous secret also signs (ms)
  ARGV[3] now (ms)

  Returns 1, or 0 when the endpoint does not exist.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cur = redis.call('HGET', KEYS[1], 'secret')
redis.call('HSET', KEYS[1], 'prev_secret', cur, 'prev_until', ARGV[2], 'secret', ARGV[1], 'updated_at', ARGV[3])
redis.call('INCR', KEYS[2])
return 1
