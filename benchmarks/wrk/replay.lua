-- Replays pre-built requests and prints one machine-readable result line.
--
-- Usage: wrk ... -s replay.lua URL -- REQUEST_FILE [count-statuses]
-- REQUEST_FILE has one request per line: method, path, bearer token, JSON body, separated
-- by tabs, "-" where there is none. Each thread starts at its own offset and cycles.

local threads = {}
local next_thread_id = 1

function setup(thread)
   thread:set("thread_id", next_thread_id)
   next_thread_id = next_thread_id + 1
   table.insert(threads, thread)
end

local prepared = {}
local position = 1
statuses = {}

local function count_status(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function init(args)
   local file = assert(io.open(args[1], "r"))
   for line in file:lines() do
      local method, path, token, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)$")
      if method then
         local headers = {}
         if token ~= "-" then
            headers["Authorization"] = "Bearer " .. token
         end
         if body == "-" or body == "" then
            body = nil
         else
            headers["Content-Type"] = "application/json"
         end
         prepared[#prepared + 1] = wrk.format(method, path, headers, body)
      end
   end
   file:close()
   assert(#prepared > 0, "no requests in " .. args[1])
   local stride = math.max(1, math.floor(#prepared / 7))
   position = (((thread_id or 1) - 1) * stride) % #prepared + 1
   if args[2] == "count-statuses" then
      -- Defined only when needed: wrk parses response bodies only if this exists.
      response = count_status
   end
end

function request()
   local r = prepared[position]
   position = position + 1
   if position > #prepared then
      position = 1
   end
   return r
end

function done(summary, latency, requests)
   local merged = {}
   for _, thread in ipairs(threads) do
      local counts = thread:get("statuses")
      if counts then
         for code, n in pairs(counts) do
            merged[code] = (merged[code] or 0) + n
         end
      end
   end
   local status_parts = {}
   for code, n in pairs(merged) do
      status_parts[#status_parts + 1] = string.format('"%d": %d', code, n)
   end
   local percentile_parts = {}
   for _, p in ipairs({50, 75, 90, 95, 99, 99.9}) do
      percentile_parts[#percentile_parts + 1] =
         string.format('"%s": %d', tostring(p), latency:percentile(p))
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"duration_us": %d, "requests": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "stdev": %.1f, '
      .. '"percentiles": {%s}}, "statuses": {%s}}\n',
      summary.duration, summary.requests, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.max, latency.stdev,
      table.concat(percentile_parts, ", "), table.concat(status_parts, ", ")))
end
