--[[
  A slice of a job's log as one string: its lines joined by newlines (JobLog stores none in a line). A
  reader then decodes one reply, not one per line: for a follower of a step printing a hundred thousand
  lines a second, decoding the lines one by one was most of the CPU it spent.

  KEYS[1] the job's log (a list)
  ARGV[1] the index of the first line
  ARGV[2] the index of the last line (-1: the end)

  Returns { the number of lines, the lines joined by "\n" }.
]]
local lines = redis.call('LRANGE', KEYS[1], ARGV[1], ARGV[2])
return { #lines, table.concat(lines, '\n') }
