-- wrk: sign in existing users round-robin (correct password), bench0..bench63@example.com.
-- Many accounts, as in real traffic: one account hammered by 32 concurrent sign-ins would be
-- (rightly) throttled, since attempts are counted before the password check.
-- env: LK_PROJECT, LK_KEY
local project = os.getenv("LK_PROJECT")
local key = os.getenv("LK_KEY")
wrk.method = "POST"
wrk.path = "/v7/" .. project .. "/auth/sign-in"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.headers["Content-Type"] = "application/json"

local n = 0
function request()
  n = n + 1
  local body = string.format('{"email":"bench%d@example.com","password":"s3cur3P@ss"}', n % 64)
  return wrk.format(nil, nil, nil, body)
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

non200 = 0  -- global: done() reads it per thread with thread:get
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
  local errors = 0
  for _, t in ipairs(threads) do errors = errors + t:get("non200") end
  io.write(string.format("non-200 responses: %d\n", errors))
end
