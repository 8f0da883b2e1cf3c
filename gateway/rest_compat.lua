-- REST contract shims around Envoy's gRPC-JSON transcoder (which runs after this filter on requests
-- and before it on responses). The transcoder cannot do these by itself:
--   * POST /token arrives as application/x-www-form-urlencoded: turn it into the JSON TokenRequest.
--   * POST /users/ and POST /cigars/ answer 201 Created, not 200.
--   * GET /cigars/ answers a bare JSON array, not {"cigars": [...]}.
--   * DELETE (and POST /users/me/password) answers 204 No Content with no body, not 200 with the
--     transcoded empty message `{}`.
--   * errors: google.rpc.Status JSON {"code","message","details"} becomes {"detail", "error", "code",
--     "details"}, as FastAPI clients read `detail` and OAuth2 clients read `error` (RFC 6749 §5.2).
--   * 401 carries WWW-Authenticate: Bearer (RFC 6750 §3); 429 carries Retry-After (from RetryInfo).
-- Only string handling: Envoy's LuaJIT has no JSON library, and the transcoder's output shape is fixed
-- (preserve_proto_field_names, always_print_primitive_fields), so what we rewrite is predictable.

local META = "cigar.rest"

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

local TOKEN_FIELDS = { grant_type = true, username = true, password = true, scope = true,
                       client_id = true, client_secret = true }

local function form_to_json(body)
  local parts = {}
  for pair in body:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    k = url_decode(k)
    if TOKEN_FIELDS[k] then  -- unknown form fields are ignored, as OAuth2 servers do
      parts[#parts + 1] = json_string(k) .. ":" .. json_string(url_decode(v))
    end
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- The route kinds whose responses we reshape, from method and path (query string stripped).
local function kind_of(method, path)
  local p = path:gsub("%?.*$", ""):gsub("/+$", "")
  if method == "POST" and p == "/token" then return "token" end
  if method == "POST" and (p == "/users" or p == "/cigars") then return "create" end
  if method == "GET" and p == "/cigars" then return "list" end
  if method == "DELETE" then return "delete" end
  -- empty gRPC responses other than DELETE's: 204 without a body as well
  if method == "POST" and p == "/users/me/password" then return "delete" end
  return "other"
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
  if not (ctype == "application/grpc" or ctype:find("^application/grpc[+;]")) then
    strip_grpc_metadata(headers)
  end
  if headers:get(":method") == "OPTIONS" and headers:get("origin") == nil then
    -- not a CORS preflight (those are answered by the CORS filter): say what the API allows
    handle:respond({ [":status"] = "204", ["allow"] = "GET, POST, PATCH, DELETE, OPTIONS" }, "")
    return
  end
  local kind = kind_of(headers:get(":method") or "", headers:get(":path") or "")
  local meta = handle:streamInfo():dynamicMetadata()
  meta:set(META, "kind", kind)
  meta:set(META, "has_auth", headers:get("authorization") ~= nil and "1" or "0")
  if kind == "token" and ctype:find("application/x-www-form-urlencoded", 1, true) then
    -- body() may wait for more data; handles taken before it are invalid afterwards.
    local body = handle:body()
    local json = form_to_json(body and body:getBytes(0, body:length()) or "")
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

local function reshape_error(raw)
  -- {"code":N,"message":"...","details":[...]}  ->  {"detail":"...","error":"<reason>","code":N,...}
  local code, rest = raw:match('^{"code":(%d+),"message":(.*)$')
  if code then
    local reason = raw:match('"reason":"([%w_]+)"')
    local error_field = reason and ('"error":' .. json_string(reason) .. ",") or ""
    return "{" .. error_field .. '"code":' .. code .. ',"detail":' .. rest
  end
  if raw:sub(1, 1) == "{" and raw:find('"detail"', 1, true) then return nil end
  return '{"detail":' .. json_string(raw ~= "" and raw or "error") .. "}"
end

function envoy_on_response(handle)
  local headers = handle:headers()
  local status = headers:get(":status")
  if status == "499" then
    -- gRPC CANCELLED (Envoy says 499, "client closed request"). A REST client that is still here to read
    -- this did not cancel: a stopping server did, after the call started (so Envoy could not retry it).
    -- That is a transient unavailability, and clients retry a 503.
    status = "503"
    headers:replace(":status", status)
  end
  local meta = handle:streamInfo():dynamicMetadata():get(META) or {}
  local kind = meta["kind"] or "other"
  headers:remove("grpc-status")  -- gRPC plumbing; REST clients read the HTTP status
  headers:remove("grpc-message")

  if status == "401" then
    local challenge = meta["has_auth"] == "1" and 'Bearer error="invalid_token"' or "Bearer"
    headers:replace("www-authenticate", challenge)
  end
  if kind == "token" then
    headers:replace("cache-control", "no-store")
    headers:replace("pragma", "no-cache")
  end

  if status == "200" then
    if kind == "create" then
      headers:replace(":status", "201")
    elseif kind == "delete" then
      replace_body(handle, "")
      local h = handle:headers()  -- re-fetched: body() invalidated the earlier handle
      h:replace(":status", "204")
      h:remove("content-type")
      h:remove("content-length")
    elseif kind == "list" then
      local raw = handle:body():getBytes(0, handle:body():length())
      -- The transcoder prints {"cigars":[...],"next_page_token":"<base64url>"}: the array ends at the
      -- last '],"next_page_token":"' (inside a string its quotes would be escaped). Pattern matching is
      -- native code; the character-by-character scan is the fallback for any other shape.
      local array = raw:match('^{"cigars":(%[.*%]),"next_page_token":"[%w_%-=]*"}$')
      if not array then
        local start = raw:find("[", 1, true)
        local stop = start and value_end(raw, start)
        array = stop and raw:sub(start, stop - 1)
      end
      if array then replace_body(handle, array) end
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
