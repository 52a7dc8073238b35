-- wrk script: subject(creditCode) lookups, cycling through codes from a file. BENCH_MODE "page"
-- GETs the subject's portal page instead; an empty BENCH_TOKEN sends no Authorization (the
-- public). BENCH_BATCH=n (n > 1) sends n consecutive codes a request as the variable "codes"
-- (subjectsByCode). Each wrk thread loads the codes and starts at its own offset, the same in
-- every run (so every server is asked the same codes): its number times the golden ratio, of
-- the list. (It used to come from an unseeded math.random, the same in every thread, so wrk's
-- two threads asked the same codes in lockstep.) Errors are counted, and answers the API
-- served kept (X-Cache: hit).
local codes = {}
local index = 0
errors = 0  -- globals: read back per thread in done()
hits = 0
local threads = {}
local token = os.getenv("BENCH_TOKEN") or ""
local query = os.getenv("BENCH_QUERY")
local mode = os.getenv("BENCH_MODE") or "graphql"
local batch = tonumber(os.getenv("BENCH_BATCH") or "1")

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  for line in io.lines(args[1]) do codes[#codes + 1] = line end
  index = math.floor(#codes * ((id * 0.6180339887) % 1))
end

function request()
  index = index % #codes + 1
  if mode == "page" then
    return wrk.format("GET", "/subjects/" .. codes[index])
  end
  local headers = {["Content-Type"] = "application/json"}
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  local variables = '{"code":"' .. codes[index] .. '"}'
  if batch > 1 then
    local some = {codes[index]}
    for _ = 2, batch do
      index = index % #codes + 1
      some[#some + 1] = codes[index]
    end
    variables = '{"codes":["' .. table.concat(some, '","') .. '"]}'
  end
  local body = '{"query":"' .. query .. '","variables":' .. variables .. '}'
  return wrk.format("POST", "/graphql", headers, body)
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then errors = errors + 1 end
  if headers["x-cache"] == "hit" or headers["X-Cache"] == "hit" then hits = hits + 1 end
end

function done(summary, latency, requests)
  local failed, kept = 0, 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("errors")
    kept = kept + thread:get("hits")
  end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"failed":%d,"hits":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, failed, kept,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
