-- Till API load for wrk: one kind of call per run, every request distinct.
--   wrk ... -s till.lua URL -- KIND CODES_FILE STORE_ID PRODUCT_ID AMOUNT REF_PREFIX AUTH
-- KIND is balance, redeem or sell. Codes are drawn at random from CODES_FILE; each POST
-- carries a reference unique to this run, thread and request. done() prints one line,
-- "BENCH_JSON {...}", with the counts, the latency percentiles and the statuses seen.

local threads = {}
local next_thread = 1

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

local kind, store, product, amount, prefix
local codes = {}
local headers = {}
local counter = 0
statuses = {}

function init(args)
  kind, store, product, amount, prefix = args[1], args[3], args[4], args[5], args[6]
  for line in io.lines(args[2]) do
    if #line > 0 then codes[#codes + 1] = line end
  end
  headers["Authorization"] = args[7]
  headers["Content-Type"] = "application/json"
  math.randomseed(os.time() * 1000 + thread_id)
end

function request()
  counter = counter + 1
  local code = codes[math.random(#codes)]
  local ref = prefix .. "-" .. thread_id .. "-" .. counter
  if kind == "balance" then
    return wrk.format("GET", "/v1/vouchers/" .. code .. "?store_id=" .. store, headers)
  elseif kind == "redeem" then
    local body = string.format(
      '{"store_id":"%s","amount":%s,"reference":"%s"}', store, amount, ref)
    return wrk.format("POST", "/v1/vouchers/" .. code .. "/redeem", headers, body)
  else
    local body = string.format(
      '{"store_id":"%s","product_id":%s,"amount":%s,"reference":"%s"}',
      store, product, amount, ref)
    return wrk.format("POST", "/v1/vouchers", headers, body)
  end
end

function response(status, _headers, _body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, _requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for key, n in pairs(counts) do merged[key] = (merged[key] or 0) + n end
  end
  local parts = {}
  for key, n in pairs(merged) do parts[#parts + 1] = string.format('"%s":%d', key, n) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%.6f,"p50_ms":%.3f,"p99_ms":%.3f,' ..
    '"max_ms":%.3f,"socket_errors":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
