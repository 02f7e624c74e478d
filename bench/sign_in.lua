-- wrk: sign in one existing user over and over (correct password).
-- env: LK_PROJECT, LK_KEY
local project = os.getenv("LK_PROJECT")
local key = os.getenv("LK_KEY")
wrk.method = "POST"
wrk.path = "/v7/" .. project .. "/auth/sign-in"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@example.com","password":"s3cur3P@ss"}'

local failures = 0
function response(status, headers, body)
  if status ~= 200 then failures = failures + 1 end
end
