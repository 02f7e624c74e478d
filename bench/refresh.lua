-- wrk: chained refresh-token exchanges. Each thread owns a queue of live refresh tokens (one
-- session each); a request takes a token, its response puts the rotated one back. Every
-- request is therefore a real rotation (never the grace path, never reuse).
-- env: LK_PROJECT, LK_KEY, LK_TOKENS (file with one refresh token per line)
local project = os.getenv("LK_PROJECT")
local key = os.getenv("LK_KEY")
local path = "/v7/" .. project .. "/auth/request-new-access-token"
local headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }

local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local queue = {}
local head, tail = 1, 0
non200 = 0  -- global: done() reads it per thread with thread:get

function init(args)
  local n = 0
  local total = tonumber(os.getenv("LK_THREADS") or "2")
  for line in io.lines(os.getenv("LK_TOKENS")) do
    if n % total == id then
      tail = tail + 1
      queue[tail] = line
    end
    n = n + 1
  end
end

function request()
  local token = queue[head]
  queue[head] = nil
  head = head + 1
  return wrk.format("POST", path, headers, '{"refreshToken":"' .. token .. '"}')
end

function response(status, hdrs, body)
  if status == 200 then
    local token = string.match(body, '"refreshToken":"([^"]+)"')
    tail = tail + 1
    queue[tail] = token
  else
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local errors = 0
  for _, t in ipairs(threads) do errors = errors + t:get("non200") end
  io.write(string.format("non-200 responses: %d\n", errors))
end
