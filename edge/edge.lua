-- GX edge response shaping (loaded by the envoy.filters.http.lua filter that devstack/envoy.py
-- places FIRST in the chain, so on the way out it sees every response last, including Envoy's
-- own local replies from jwt_authn, the transcoder and the router).
--
-- (a) A gRPC handler that accepted a command sets the initial-metadata header `x-http-status`
--     (e.g. 202); the transcoder answers 200 for every success, so the status is applied here
--     and the header is removed.
-- (b) Envoy's own errors (malformed JSON, unknown method or query parameter, missing or bad
--     token, body too large, no healthy upstream) come back as text/plain. REST clients must
--     always get a google.rpc.Status JSON body, so they are rewritten here, keeping the text as
--     the message and adding an ErrorInfo with a stable reason.
-- Native gRPC responses (content-type application/grpc*) are never touched.

-- HTTP status -> { gRPC code, ErrorInfo reason, HTTP status to answer }.
local ERRORS = {
  [400] = { 3, "INVALID_REQUEST", 400 },
  [401] = { 16, "UNAUTHENTICATED", 401 },
  [403] = { 7, "PERMISSION_DENIED", 403 },
  [404] = { 5, "NOT_FOUND", 404 },
  [405] = { 12, "METHOD_NOT_ALLOWED", 405 },
  -- The issue asks for 400 on an oversized body, like every other bad input.
  [413] = { 3, "REQUEST_TOO_LARGE", 400 },
  [429] = { 8, "RESOURCE_EXHAUSTED", 429 },
  [500] = { 13, "INTERNAL", 500 },
  [502] = { 14, "UPSTREAM_UNAVAILABLE", 503 },
  [503] = { 14, "UNAVAILABLE", 503 },
  [504] = { 4, "DEADLINE_EXCEEDED", 504 },
}

-- Second-byte ranges of the lead bytes whose sequences need a narrower one (no overlong forms,
-- no UTF-16 surrogates, nothing past U+10FFFF); every other lead takes 0x80-0xBF.
local UTF8_SECOND = { [0xE0] = { 0xA0, 0xBF }, [0xED] = { 0x80, 0x9F }, [0xF0] = { 0x90, 0xBF }, [0xF4] = { 0x80, 0x8F } }

-- The text with every byte that does not begin a well-formed UTF-8 sequence replaced by U+FFFD.
-- Envoy's messages quote the request (the transcoder echoes a body that is not UTF-8), and JSON
-- must be UTF-8: a client's decoder would fail on the raw bytes.
local function utf8_only(s)
  if not s:find("[\128-\255]") then
    return s
  end
  local out, i, n = {}, 1, #s
  while i <= n do
    local c = s:byte(i)
    local len = 0
    if c < 0x80 then
      len = 1
    elseif c >= 0xC2 and c <= 0xDF then
      len = 2
    elseif c >= 0xE0 and c <= 0xEF then
      len = 3
    elseif c >= 0xF0 and c <= 0xF4 then
      len = 4
    end
    local ok = len > 0
    for k = 1, len - 1 do
      local b = s:byte(i + k)
      local low, high = 0x80, 0xBF
      if k == 1 and UTF8_SECOND[c] then
        low, high = UTF8_SECOND[c][1], UTF8_SECOND[c][2]
      end
      if b == nil or b < low or b > high then
        ok = false
        break
      end
    end
    if ok then
      out[#out + 1] = s:sub(i, i + len - 1)
      i = i + len
    else
      out[#out + 1] = "\239\191\189"
      i = i + 1
    end
  end
  return table.concat(out)
end

local function json_string(s)
  s = utf8_only(s)
  s = s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    if c == "\n" then return "\\n" end
    if c == "\r" then return "\\r" end
    if c == "\t" then return "\\t" end
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. s .. '"'
end

local function reason_for(status, message)
  -- Sharper reasons for the transcoder's messages; the text itself is kept as the message.
  if status == 400 then
    if message:find("Could not find field", 1, true) or message:find("Cannot find field", 1, true) then
      return "UNKNOWN_FIELD"
    end
    return "MALFORMED_REQUEST"
  end
  if status == 404 and message:find("Could not resolve", 1, true) then
    return "UNKNOWN_METHOD"
  end
  return nil
end

-- Request headers only the edge itself may set: a client's copies are dropped before any filter
-- or service could read them (x-gx-*: the edge's own markers; x-envoy-*: Envoy's control headers).
local INTERNAL_PREFIXES = { "x-gx-", "x-envoy-" }

function envoy_on_request(request_handle)
  -- Idempotency-Key and its alias X-Idempotency-Key need no work: HTTP headers reach the gRPC
  -- handler as metadata ("idempotency-key", "x-idempotency-key"), where the shared idempotency
  -- code (services.common.idempotency.IDEMPOTENCY_KEY_HEADERS) reads them.
  local headers = request_handle:headers()
  -- One pass over the headers finds both kinds to drop (removing while iterating is not allowed).
  -- The transcoder passes every header on as gRPC metadata, whose keys may hold only 0-9 a-z _ . -
  -- (HTTP allows more, e.g. "|"); the service's gRPC core fails such a call with INTERNAL (a 500).
  -- No service reads such a header, so it is dropped here instead.
  local dropped = nil
  for name, _ in pairs(headers) do
    local drop = false
    if name:sub(1, 1) ~= ":" then
      drop = name:find("[^0-9a-z_.%-]") ~= nil
      for _, prefix in ipairs(INTERNAL_PREFIXES) do
        if name:sub(1, #prefix) == prefix then
          drop = true
        end
      end
    end
    if drop then
      dropped = dropped or {}
      dropped[#dropped + 1] = name
    end
  end
  if dropped ~= nil then
    for _, name in ipairs(dropped) do
      headers:remove(name)
    end
  end
  -- A partner API key sends the request through licensing's key check (ext_authz runs only
  -- when this mark is set, so unkeyed requests never wait for or depend on licensing).
  if headers:get("x-api-key") ~= nil then
    request_handle:streamInfo():dynamicMetadata():set("gx.edge", "keyed", true)
  end
end

function envoy_on_response(response_handle)
  local headers = response_handle:headers()
  local override = headers:get("x-http-status")
  if override ~= nil then
    headers:remove("x-http-status")
    -- Only for REST: a native gRPC answer must keep :status 200, or gRPC clients fail the call.
    local grpc_answer = (headers:get("content-type") or ""):find("application/grpc", 1, true) == 1
    if override:match("^[1-5]%d%d$") and not grpc_answer then
      headers:replace(":status", override)
    end
  end

  -- The per-address limiter (devstack/envoy.py) marks its refusals; the mark never leaves the edge.
  local limited_by = headers:get("x-gx-limited")
  if limited_by ~= nil then
    headers:remove("x-gx-limited")
  end

  local content_type = headers:get("content-type") or ""
  if content_type:find("application/grpc", 1, true) == 1 then
    return
  end
  -- REST callers get the status in the body; the raw gRPC trailers-as-headers are noise to them.
  headers:remove("grpc-status")
  headers:remove("grpc-message")
  headers:remove("grpc-status-details-bin")
  headers:remove("grpc-accept-encoding")

  local status = tonumber(headers:get(":status")) or 200
  -- A 429 from a service carries google.rpc.RetryInfo in its JSON body; HTTP clients look for
  -- the standard Retry-After header, so lift the delay (whole seconds) into it.
  if status == 429 and headers:get("retry-after") == nil and content_type:find("application/json", 1, true) then
    local limited = response_handle:body()
    if limited ~= nil and limited:length() > 0 then
      local delay = limited:getBytes(0, limited:length()):match('"retryDelay"%s*:%s*"(%d+)')
      if delay ~= nil then
        -- body() waited for the whole body; fetch the header map again before writing to it.
        response_handle:headers():replace("retry-after", delay)
      end
    end
    return
  end
  if status < 400 or content_type:find("application/json", 1, true) then
    return
  end
  local message = ""
  -- true: a body-less reply (an ext_authz 503, a bare 404) still gets a buffer to write into.
  local body = response_handle:body(true)
  if body ~= nil and body:length() > 0 then
    message = body:getBytes(0, body:length())
  end
  message = message:gsub("%s+$", "")
  -- jwt_authn answers 403 for a token minted for another audience; to the caller that token is
  -- simply not a valid credential here, so it gets 401 like an expired or forged one.
  if status == 403 and message:find("Jwt", 1, true) then
    status = 401
  end
  local mapping = ERRORS[status] or { 2, "UNKNOWN", status }
  if message == "" then
    message = "HTTP " .. status
  end
  local reason = reason_for(status, message) or mapping[2]
  -- A keyed request answered 503 without a body is ext_authz failing closed: licensing could
  -- not be asked (down, or slower than the check's timeout). Say so, with licensing's own reason.
  if status == 503 and message == "HTTP 503" then
    local edge = response_handle:streamInfo():dynamicMetadata():get("gx.edge")
    if edge ~= nil and edge["keyed"] then
      reason = "LICENSING_UNAVAILABLE"
      message = "API keys cannot be checked right now; retry shortly"
    end
  end
  if status == 429 and limited_by == "address" then
    reason = "CLIENT_RATE_LIMITED"
    message = "too many requests from this address; retry after the time in Retry-After"
  end
  -- body() waits for the whole body; the header map fetched before it is no longer valid.
  headers = response_handle:headers()
  local json = '{"code":' .. mapping[1] .. ',"message":' .. json_string(message)
    .. ',"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"' .. reason
    .. '","domain":"edge.gx","metadata":{}}]}'
  headers:replace(":status", tostring(mapping[3]))
  headers:replace("content-type", "application/json")
  headers:remove("content-length")
  if body ~= nil then
    body:setBytes(json)
  end
end
