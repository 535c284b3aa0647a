-- An anonymous client posting a big JSON body to a till write, again and again:
--   wrk ... -s big_body.lua URL -- BYTES
-- No Authorization header: the ledger should refuse each before reading the body.
local request_text

function init(args)
  local filler = string.rep("a", tonumber(args[1]))
  local body = '{"store_id":"X","amount":1,"reference":"' .. filler .. '"}'
  request_text = wrk.format("POST", "/v1/vouchers/6301190000000000000/redeem",
    {["Content-Type"] = "application/json"}, body)
end

function request()
  return request_text
end
