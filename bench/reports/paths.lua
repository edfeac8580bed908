-- GET load over several paths (map viewports, nearby lookups), one chosen at random per request.
-- Env: PATHS=file with one path per line. Counts non-200 answers like bench/only200.lua.
local threads = {}
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
init = function(args)
  paths = {}
  for line in io.lines(os.getenv("PATHS")) do
    if line ~= "" then paths[#paths + 1] = line end
  end
  math.randomseed(os.time() * 1000 + id)
  bad = 0
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("bad") end
  io.write(string.format("non-200 answers: %d\n", n))
  io.write(string.format("p95: %.2fms\n", latency:percentile(95) / 1000))
end
