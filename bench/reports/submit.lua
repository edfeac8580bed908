-- Report submission under load: POST /open311/v2/requests.json as multipart/form-data with one
-- photo (`media`, a phone-sized JPEG) at random places inside the town, random categories.
-- Counts 200/201 as accepted; anything else is printed (first three) and counted.
-- Env: PHOTO=path to the JPEG, API_KEY=Open311 key, CODES=comma-separated service codes,
--      BOX="min_lat,min_lon,max_lat,max_lon" (points drawn inside a small box in the centre,
--      always inside the boundary).
local threads = {}
local counter = 0

setup = function(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local function split(s)
  local out = {}
  for x in s:gmatch("[^,]+") do out[#out + 1] = x end
  return out
end

init = function(args)
  local f = assert(io.open(os.getenv("PHOTO"), "rb"))
  photo = f:read("*a")
  f:close()
  key = os.getenv("API_KEY")
  codes = split(os.getenv("CODES"))
  box = split(os.getenv("BOX"))
  for i = 1, 4 do box[i] = tonumber(box[i]) end
  math.randomseed(os.time() * 1000 + id)
  ok, other = 0, 0
  boundary = "----rathausbench" .. id
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
end

local function field(name, value)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name .. "\"\r\n\r\n" .. value .. "\r\n"
end

request = function()
  local lat = box[1] + math.random() * (box[3] - box[1])
  local lon = box[2] + math.random() * (box[4] - box[2])
  local body = field("api_key", key)
    .. field("service_code", codes[math.random(#codes)])
    .. field("lat", string.format("%.6f", lat))
    .. field("long", string.format("%.6f", lon))
    .. field("description", "Lasttest: Schlagloch vor der Einfahrt, etwa 20 cm tief.")
    .. "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"media\"; filename=\"IMG_2041.jpg\"\r\n"
    .. "Content-Type: image/jpeg\r\n\r\n" .. photo .. "\r\n--" .. boundary .. "--\r\n"
  return wrk.format(nil, "/open311/v2/requests.json", nil, body)
end

response = function(status, headers, body)
  if status == 200 or status == 201 then ok = ok + 1
  else
    other = other + 1
    if other <= 3 then io.stderr:write("status " .. status .. ": " .. body:sub(1, 300) .. "\n") end
  end
end

done = function(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do a = a + t:get("ok"); o = o + t:get("other") end
  local secs = summary.duration / 1e6
  io.write(string.format("accepted: %d (%.1f/s), other: %d\n", a, a / secs, o))
  io.write(string.format("p95: %.2fms\n", latency:percentile(95) / 1000))
end
