-- GX edge request check: reject REST bodies with fields the request message does not have.
--
-- Envoy's grpc_json_transcoder silently drops unknown JSON fields (it has no option to refuse
-- them), so a typo such as {"amountQirt": 5} would reach the service as a request without the
-- amount. This filter runs after jwt_authn and before the transcoder; devstack/envoy.py
-- replaces the SCHEMA line below with the routes and message shapes from the descriptor set.
-- Malformed JSON is left alone: the transcoder rejects it with its own message.

local SCHEMA = { routes = {}, messages = {} } -- @@SCHEMA@@

-- A small JSON reader that keeps only the structure: objects (key -> node), arrays, scalars.
local function skip_ws(s, i)
  local _, e = s:find("^[ \n\r\t]*", i)
  return e + 1
end

local parse_value

local function parse_string(s, i)
  -- i points at the opening quote; returns the decoded-enough key and the index after the quote.
  local out = {}
  local j = i + 1
  while true do
    local c = s:sub(j, j)
    if c == "" then return nil end
    if c == '"' then return table.concat(out), j + 1 end
    if c == "\\" then
      local n = s:sub(j + 1, j + 1)
      if n == "u" then
        out[#out + 1] = "\\u" .. s:sub(j + 2, j + 5)
        j = j + 6
      else
        out[#out + 1] = n
        j = j + 2
      end
    else
      out[#out + 1] = c
      j = j + 1
    end
  end
end

local function parse_object(s, i)
  local node = { kind = "object", fields = {}, order = {} }
  i = skip_ws(s, i + 1)
  if s:sub(i, i) == "}" then return node, i + 1 end
  while true do
    if s:sub(i, i) ~= '"' then return nil end
    local key, ni = parse_string(s, i)
    if key == nil then return nil end
    i = skip_ws(s, ni)
    if s:sub(i, i) ~= ":" then return nil end
    local value
    value, i = parse_value(s, skip_ws(s, i + 1))
    if value == nil then return nil end
    if node.fields[key] == nil then node.order[#node.order + 1] = key end
    node.fields[key] = value
    i = skip_ws(s, i)
    local c = s:sub(i, i)
    if c == "}" then return node, i + 1 end
    if c ~= "," then return nil end
    i = skip_ws(s, i + 1)
  end
end

local function parse_array(s, i)
  local node = { kind = "array", items = {} }
  i = skip_ws(s, i + 1)
  if s:sub(i, i) == "]" then return node, i + 1 end
  while true do
    local value
    value, i = parse_value(s, i)
    if value == nil then return nil end
    node.items[#node.items + 1] = value
    i = skip_ws(s, i)
    local c = s:sub(i, i)
    if c == "]" then return node, i + 1 end
    if c ~= "," then return nil end
    i = skip_ws(s, i + 1)
  end
end

parse_value = function(s, i)
  local c = s:sub(i, i)
  if c == "{" then return parse_object(s, i) end
  if c == "[" then return parse_array(s, i) end
  if c == '"' then
    local _, ni = parse_string(s, i)
    if ni == nil then return nil end
    return { kind = "scalar" }, ni
  end
  local _, e = s:find("^[%w%.%+%-]+", i)
  if e == nil then return nil end
  return { kind = "scalar" }, e + 1
end

-- Returns the dotted path of the first unknown field, or nil.
local function unknown_field(node, message, path)
  local fields = SCHEMA.messages[message]
  if fields == nil or node.kind ~= "object" then return nil end
  for _, key in ipairs(node.order) do
    local shape = fields[key]
    local where = path == "" and key or (path .. "." .. key)
    if shape == nil then return where end
    local child = node.fields[key]
    if shape.m ~= nil then
      local values = {}
      if shape.map and child.kind == "object" then
        for _, k in ipairs(child.order) do values[#values + 1] = { child.fields[k], where .. "." .. k } end
      elseif child.kind == "array" then
        for n, item in ipairs(child.items) do values[#values + 1] = { item, where .. "[" .. (n - 1) .. "]" } end
      else
        values[1] = { child, where }
      end
      for _, pair in ipairs(values) do
        local found = unknown_field(pair[1], shape.m, pair[2])
        if found ~= nil then return found end
      end
    end
  end
  return nil
end

local function route_message(method, path)
  path = path:gsub("%?.*$", "")
  for _, route in ipairs(SCHEMA.routes) do
    if route.verb == method and path:find(route.pattern) then return route.message end
  end
  return nil
end

local function json_escape(s)
  return (s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end))
end

function envoy_on_request(request_handle)
  local headers = request_handle:headers()
  local method = headers:get(":method")
  if method ~= "POST" and method ~= "PUT" and method ~= "PATCH" then return end
  local content_type = headers:get("content-type") or ""
  if content_type:find("application/grpc", 1, true) == 1 then return end
  local message = route_message(method, headers:get(":path") or "")
  if message == nil then return end
  local body = request_handle:body()
  if body == nil or body:length() == 0 then return end
  local text = body:getBytes(0, body:length())
  local node, finish = parse_value(text, skip_ws(text, 1))
  if node == nil or skip_ws(text, finish) <= #text then return end -- malformed: the transcoder says why
  local bad = unknown_field(node, message, "")
  if bad == nil then return end
  local field = json_escape(bad)
  request_handle:respond(
    { [":status"] = "400", ["content-type"] = "application/json" },
    '{"code":3,"message":"unknown field \\"' .. field .. '\\" in ' .. message .. '","details":['
      .. '{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"' .. field
      .. '","description":"unknown field"}]},'
      .. '{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"UNKNOWN_FIELD","domain":"edge.gx","metadata":{"field":"'
      .. field .. '"}}]}'
  )
end

-- No envoy_on_response: Envoy then runs no Lua on the way back (an empty one cost a coroutine per call).
