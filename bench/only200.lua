-- GET load that counts answers other than 200 across all wrk threads (a redirect to the
-- login page or an error page must not pass as speed). Prints "non-200 answers: N" and the p95 latency.
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args) bad = 0 end
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("bad") end
  io.write(string.format("non-200 answers: %d\n", n))
  -- wrk's --latency lists 50/75/90/99; the targets ask for p95 (microseconds → ms).
  io.write(string.format("p95: %.2fms\n", latency:percentile(95) / 1000))
end
