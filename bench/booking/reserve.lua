-- Booking creation under load: POST /api/v1/booking/reservations with random slots.
-- The slots file (one "resource_id start end" per line, from booking_gen --slots-file) holds
-- slots within each resource's rules (duration, opening hours, horizon, off blackouts), so
-- every answer is 201 (created: checked, no overlap) or 409 (checked, overlaps); both ran the
-- full conflict check. Anything else is counted as "other" and printed.
-- Env: SLOTS=path to the slots file, TOKEN=API bearer token.
local slots = {}
local threads = {}
local counter = 0

setup = function(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

init = function(args)
  for line in io.lines(os.getenv("SLOTS")) do
    local r, s, e = line:match("^(%d+) (%S+) (%S+)$")
    if r then slots[#slots + 1] = { r, s, e } end
  end
  math.randomseed(os.time() * 1000 + id)
  c201, c409, other = 0, 0, 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
end

request = function()
  local x = slots[math.random(#slots)]
  local body = string.format('{"resource_id":%s,"start":"%s","end":"%s","title":"Lasttest"}', x[1], x[2], x[3])
  return wrk.format(nil, "/api/v1/booking/reservations", nil, body)
end

response = function(status, headers, body)
  if status == 201 then c201 = c201 + 1
  elseif status == 409 then c409 = c409 + 1
  else
    other = other + 1
    if other <= 3 then io.stderr:write("status " .. status .. ": " .. body:sub(1, 300) .. "\n") end
  end
end

done = function(summary, latency, requests)
  local a, b, o = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("c201"); b = b + t:get("c409"); o = o + t:get("other")
  end
  local secs = summary.duration / 1e6
  io.write(string.format("201 created: %d (%.1f/s), 409 conflict: %d (%.1f/s), other: %d, checked: %.1f/s\n",
    a, a / secs, b, b / secs, o, (a + b) / secs))
  io.write(string.format("p95: %.2fms\n", latency:percentile(95) / 1000))
end
