-- wrk: a mixed authenticated MCP load. Each connection cycles through
-- tools/list, calculate and a cached binance_klines call, every request
-- carrying the bearer token from $TOKEN. A reply that is not HTTP 200, or
-- a JSON-RPC error, or a tool error, counts as a failure; done() prints
-- the total as "failures N".
local token = os.getenv("TOKEN") or error("TOKEN is not set")
local bodies = {
  '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
  '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"calculate","arguments":{"expression":"(97250.5 - 94010) / 94010 * 100"}}}',
  '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"binance_klines","arguments":{"symbol":"BTCUSDT","interval":"1h","limit":100}}}',
}
local headers = {
  ["Content-Type"] = "application/json",
  ["Accept"] = "application/json, text/event-stream",
  ["MCP-Protocol-Version"] = "2025-11-25",
  ["Authorization"] = "Bearer " .. token,
}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format("POST", nil, headers, body)
  end
  n = 0
  failures = 0
end

function request()
  n = n + 1
  return requests[(n % #requests) + 1]
end

function response(status, headers, body)
  if status ~= 200 or body:find('"error":', 1, true) or body:find('"isError":true', 1, true) then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("failures")
  end
  io.write(string.format("failures %d\n", total))
end
