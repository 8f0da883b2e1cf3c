-- REST contract shims around Envoy's gRPC-JSON transcoder (which runs after this filter on requests
-- and before it on responses). What to do per route comes from the routes' (cigar.rest.v1.route)
-- options in protos/, through gateway/generated/rest_routes.lua (`make protos`), the table the OpenAPI
-- document is generated from as well. The transcoder cannot do these by itself:
--   * a form_body route (POST /token) takes application/x-www-form-urlencoded: it becomes the JSON request.
--   * success_status 201 (POST /users/, POST /cigars/) answers 201 Created, not 200.
--   * bare_array_field (GET /cigars/) answers a bare JSON array, not {"cigars": [...]}.
--   * success_status 204 (the DELETEs, POST /users/me/password) answers 204 No Content with no body,
--     not 200 with the transcoded empty message `{}`.
--   * response_headers (Cache-Control and Pragma on /token) are set on every answer of the route.
--   * errors: google.rpc.Status JSON {"code","message","details"} becomes {"detail", "error",
--     "error_description", "code", "details"}, as FastAPI clients read `detail` and OAuth2 clients read
--     `error` and `error_description` (RFC 6749 §5.2).
--   * 401 carries WWW-Authenticate: Bearer (RFC 6750 §3); 429 carries Retry-After (from RetryInfo).
--   * a query parameter naming a field the route's path or body carries (not_in_query) is refused with
--     400: the transcoder would take it from the URL too, so a path id could be overridden
--     (DELETE /cigars/1?id=2) and a password sent in a URL, which logs and caches keep, would work.
-- Only string handling: Envoy's LuaJIT has no JSON library, and the transcoder's output shape is fixed
-- (preserve_proto_field_names, always_print_primitive_fields), so what we rewrite is predictable.

local META = "cigar.rest"

-- The routes, most specific first per method; found in the Lua filter's package_paths.
local ROUTES_BY_METHOD, ROUTES_BY_RPC = {}, {}
for _, route in ipairs(require("rest_routes")) do
  local same_method = ROUTES_BY_METHOD[route.method] or {}
  same_method[#same_method + 1] = route
  ROUTES_BY_METHOD[route.method] = same_method
  ROUTES_BY_RPC[route.rpc] = route
  if route.form_fields then
    route.form_keys = {}
    for _, name in ipairs(route.form_fields) do route.form_keys[name] = true end
  end
  if route.not_in_query then
    route.query_refused = {}
    for _, name in ipairs(route.not_in_query) do route.query_refused[name] = true end
  end
  if route.bare_array then
    -- what the transcoder prints for an AIP-158 page: {"<field>":[...],"next_page_token":"<base64url>"}
    route.page_pattern = '^{"' .. route.bare_array .. '":(%[.*%]),"next_page_token":"[%w_%-=]*"}$'
  end
end
local NO_ROUTES = {}

local function url_decode(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function json_string(s)
  local escaped = s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. escaped .. '"'
end

local function form_to_json(body, keys)
  local parts = {}
  for pair in body:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    k = url_decode(k)
    if keys[k] then  -- unknown form fields are ignored, as OAuth2 servers do
      parts[#parts + 1] = json_string(k) .. ":" .. json_string(url_decode(v))
    end
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- The route of a request, as the transcoder matches it: query string and trailing slashes stripped.
local function route_of(method, path)
  local p = path:gsub("%?.*$", "")
  p = p:gsub("/+$", "")
  for _, route in ipairs(ROUTES_BY_METHOD[method] or NO_ROUTES) do
    if p:find(route.pattern) then return route end
  end
  return nil
end

-- The first query parameter of `path` that the route takes from its path or body, or nil.
local function refused_query_parameter(route, path)
  local query = path:match("%?(.*)$")
  if query == nil or route.query_refused == nil then return nil end
  for pair in query:gmatch("[^&]+") do
    local name = url_decode(pair:match("^([^=]*)"))
    local top = name:match("^[^.]*")  -- "cigar.name" sets a field of `cigar`
    if route.query_refused[top] then return name end
  end
  return nil
end

local function refuse_query_parameter(handle, route, name)
  local where = route.path:find("{" .. name:match("^[^.]*"), 1, true) and "the path" or "the request body"
  local detail = name .. " is taken from " .. where .. " and cannot be given in the URL's query"
  local body = '{"detail":' .. json_string(detail) .. ',"error":"invalid_request","error_description":'
    .. json_string(detail) .. ',"code":3,"details":['
    .. '{"@type":"type.googleapis.com/google.rpc.BadRequest","field_violations":[{"field":'
    .. json_string(name) .. ',"description":' .. json_string("must not be in the query string") .. '}]}]}'
  handle:streamInfo():dynamicMetadata():set(META, "own_reply", "1")  -- kept as it is (envoy.yaml.tmpl)
  handle:respond({ [":status"] = "400", ["content-type"] = "application/json" }, body)
end

-- The transcoder forwards REST headers as gRPC metadata, where a malformed grpc-timeout or a "-bin"
-- value that is not base64 makes the gRPC server fail the call (a 500). Only gRPC clients may send them.
local function strip_grpc_metadata(headers)
  local reserved = {}
  for key, _ in pairs(headers) do
    if key:find("^grpc%-") or key:find("%-bin$") then reserved[#reserved + 1] = key end
  end
  for _, key in ipairs(reserved) do headers:remove(key) end
end

function envoy_on_request(handle)
  local headers = handle:headers()
  local ctype = (headers:get("content-type") or ""):lower()
  if ctype == "application/grpc" or ctype:find("^application/grpc[+;]") then
    -- A gRPC client on the REST port: its call and answer pass untouched (the shims below are for REST).
    handle:streamInfo():dynamicMetadata():set(META, "grpc", "1")
    return
  end
  strip_grpc_metadata(headers)
  if headers:get(":method") == "OPTIONS" and headers:get("origin") == nil then
    -- not a CORS preflight (those are answered by the CORS filter): say what the API allows
    handle:respond({ [":status"] = "204", ["allow"] = "GET, POST, PATCH, DELETE, OPTIONS" }, "")
    return
  end
  local path = headers:get(":path") or ""
  local route = route_of(headers:get(":method") or "", path)
  local refused = route and refused_query_parameter(route, path)
  if refused then
    refuse_query_parameter(handle, route, refused)
    return
  end
  local meta = handle:streamInfo():dynamicMetadata()
  meta:set(META, "rpc", route and route.rpc or "")
  meta:set(META, "has_auth", headers:get("authorization") ~= nil and "1" or "0")
  if route and route.form_keys and ctype:find("application/x-www-form-urlencoded", 1, true) then
    -- body() may wait for more data; handles taken before it are invalid afterwards.
    local body = handle:body()
    local json = form_to_json(body and body:getBytes(0, body:length()) or "", route.form_keys)
    if body then body:setBytes(json) end
    handle:headers():replace("content-type", "application/json")
    handle:headers():replace("content-length", tostring(#json))
  end
end

-- Index just past the JSON value that starts at position i (an array or object), or nil.
local function value_end(s, i)
  local depth, in_string, escaped = 0, false, false
  for j = i, #s do
    local c = s:sub(j, j)
    if in_string then
      if escaped then escaped = false
      elseif c == "\\" then escaped = true
      elseif c == '"' then in_string = false end
    elseif c == '"' then in_string = true
    elseif c == "[" or c == "{" then depth = depth + 1
    elseif c == "]" or c == "}" then
      depth = depth - 1
      if depth == 0 then return j + 1 end
    end
  end
  return nil
end

local function replace_body(handle, text)
  local body = handle:body()
  body:setBytes(text)
  handle:headers():replace("content-length", tostring(#text))
end

-- The JSON string that starts at position i of s (its quotes and escapes kept), or nil.
local function json_string_at(s, i)
  if s:sub(i, i) ~= '"' then return nil end
  local escaped = false
  for j = i + 1, #s do
    local c = s:sub(j, j)
    if escaped then escaped = false
    elseif c == "\\" then escaped = true
    elseif c == '"' then return s:sub(i, j) end
  end
  return nil
end

local function reshape_error(raw)
  -- {"code":N,"message":"...","details":[...]}
  --   ->  {"error":"<reason>","error_description":"...","code":N,"detail":"...","details":[...]}
  -- error_description (RFC 6749 §5.2) repeats the message, which OAuth2 libraries and Swagger UI show.
  local code, rest = raw:match('^{"code":(%d+),"message":(.*)$')
  if code then
    local reason = raw:match('"reason":"([%w_]+)"')
    local error_field = ""
    if reason then
      local message = json_string_at(rest, 1)
      error_field = '"error":' .. json_string(reason) .. ","
        .. (message and ('"error_description":' .. message .. ",") or "")
    end
    return "{" .. error_field .. '"code":' .. code .. ',"detail":' .. rest
  end
  if raw:sub(1, 1) == "{" and raw:find('"detail"', 1, true) then return nil end
  return '{"detail":' .. json_string(raw ~= "" and raw or "error") .. "}"
end

function envoy_on_response(handle)
  local meta = handle:streamInfo():dynamicMetadata():get(META) or {}
  -- gRPC answers keep grpc-status and grpc-message: in a trailers-only error they are in these headers.
  if meta["grpc"] == "1" then return end
  local headers = handle:headers()
  local status = headers:get(":status")
  if status == "499" then
    -- gRPC CANCELLED (Envoy says 499, "client closed request"). A REST client that is still here to read
    -- this did not cancel: a stopping server did, after the call started (so Envoy could not retry it).
    -- That is a transient unavailability, and clients retry a 503.
    status = "503"
    headers:replace(":status", status)
  end
  local route = ROUTES_BY_RPC[meta["rpc"] or ""]
  headers:remove("grpc-status")  -- gRPC plumbing; REST clients read the HTTP status
  headers:remove("grpc-message")

  if status == "401" then
    local challenge = meta["has_auth"] == "1" and 'Bearer error="invalid_token"' or "Bearer"
    headers:replace("www-authenticate", challenge)
  end
  if route and route.headers then
    for _, header in ipairs(route.headers) do headers:replace(header.name, header.value) end
  end

  if status == "200" then
    if route == nil then return end
    if route.status == 204 then
      replace_body(handle, "")
      local h = handle:headers()  -- re-fetched: body() invalidated the earlier handle
      h:replace(":status", "204")
      h:remove("content-type")
      h:remove("content-length")
      return
    end
    if route.bare_array then
      local raw = handle:body():getBytes(0, handle:body():length())
      -- The transcoder prints {"cigars":[...],"next_page_token":"<base64url>"}: the array ends at the
      -- last '],"next_page_token":"' (inside a string its quotes would be escaped). Pattern matching is
      -- native code; the character-by-character scan is the fallback for any other shape (the array is
      -- the response's first field, so it is printed first: scripts/rest_routes.py checks).
      local array = raw:match(route.page_pattern)
      if not array then
        local start = raw:find("[", 1, true)
        local stop = start and value_end(raw, start)
        array = stop and raw:sub(start, stop - 1)
      end
      if array then replace_body(handle, array) end
    end
    if route.status ~= 200 then
      handle:headers():replace(":status", tostring(route.status))  -- re-fetched: body() may have run
    end
    return
  end

  if tonumber(status) and tonumber(status) >= 400 then
    local body = handle:body()
    if body == nil then return end  -- nothing to reshape (Envoy's own replies are JSON already)
    local raw = body:getBytes(0, body:length())
    local shaped = reshape_error(raw)
    -- RFC 6585 §4: a 429 says when to come back. auth_service puts it in google.rpc.RetryInfo.
    local delay = raw:match('"retry_?[dD]elay":"(%d+)')
    if status == "429" and delay then handle:headers():replace("retry-after", delay) end
    if shaped then
      replace_body(handle, shaped)
      handle:headers():replace("content-type", "application/json")
    end
  end
end
