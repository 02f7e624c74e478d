-- wrk: a sign-up flood. Every request signs up a new account (unique email per request:
-- run id, wrk thread, counter), so each one costs a fresh Argon2id hash and a user insert.
-- env: LK_PROJECT, LK_KEY, LK_RUN (optional: a prefix so reruns on one database never collide)
local project = os.getenv("LK_PROJECT")
local key = os.getenv("LK_KEY")
local run = os.getenv("LK_RUN") or tostring(os.time())
wrk.method = "POST"
wrk.path = "/v7/" .. project .. "/auth/sign-up"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.headers["Content-Type"] = "application/json"

local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local n = 0
function request()
  n = n + 1
  local body = string.format('{"email":"su-%s-%d-%d@example.com","password":"s3cur3P@ss"}', run, id, n)
  return wrk.format(nil, nil, nil, body)
end

created = 0 -- globals: done() reads them per thread with thread:get
busy = 0
other = 0
function response(status, headers, body)
  if status == 201 then created = created + 1
  elseif status == 503 then busy = busy + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local c, b, o = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created"); b = b + t:get("busy"); o = o + t:get("other")
  end
  io.write(string.format("created: %d (%.1f /s), 503 busy: %d, other: %d\n",
    c, c / (summary.duration / 1e6), b, o))
end
