--[[
  Finishes several jobs of one BullMQ queue in one call: BullMQ's own moveToFinished script, spliced in
  below from the installed bullmq (queue/bullmq-move-to-finished.ts checks it is the one this follows),
  run once per job in the order given, each with its own keys and arguments, exactly as BullMQ would
  run it for that job alone. Each job's result is its own: one job's error does not stop the others.

  KEYS[1...] per job, 14 keys: the keys of BullMQ's moveToFinished (moveToFinished-14), in its order
  ARGV[1...] per job, 9 arguments: the arguments of BullMQ's moveToFinished, in its order ('' for none)

  Returns one entry per job: what moveToFinished returned (0, a negative error code, or the next job to
  process), or, when it raised an error, that error's text.
]]
local moveToFinished = function(KEYS, ARGV)
--- @bullmq moveToFinished-14
end

local out = {}
for i = 0, #KEYS / 14 - 1 do
  local k, a = {}, {}
  for j = 1, 14 do
    k[j] = KEYS[i * 14 + j]
  end
  for j = 1, 9 do
    a[j] = ARGV[i * 9 + j]
  end
  local ok, result = pcall(moveToFinished, k, a)
  if ok then
    out[i + 1] = result
  elseif type(result) == 'table' then
    out[i + 1] = tostring(result.err)
  else
    out[i + 1] = tostring(result)
  end
end
return out
