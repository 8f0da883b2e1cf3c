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
--   * paging (bare_array routes): the transcoder's next_page_token becomes `Link: <...>; rel="next"`
--     (RFC 8288) with the same filters and limit, absent on the last page.
--   * location (POST /cigars/): a 201 carries Location, filled from the new resource's fields.
--   * etag routes: a strong ETag (a 64-bit hash of the body, computed here), 304 on a matching
--     If-None-Match, and HEAD served as the GET (Envoy sends no body to a HEAD request).
--   * one error shape: every 4xx/5xx is {"error", "error_description", "detail", ...} JSON (the two texts
--     are the same); the transcoder's parse errors are reworded (the field and the expected type in words),
--     Envoy's 503s name the service that is down, a path served with other methods is 405 with Allow, an
--     unknown one 404.
--   * micro-cache (GATEWAY_MICROCACHE_SECONDS > 0, off by default): a page of the public list asked without
--     Authorization is kept here, per Envoy worker, for that many seconds at most, and served (or a 304)
--     without a service call. Nothing else is kept: no other route, no request with Authorization.
--   * a query parameter naming a field the route's path or body carries (not_in_query) is refused with
--     400: the transcoder would take it from the URL too, so a path id could be overridden
--     (DELETE /cigars/1?id=2) and a password sent in a URL, which logs and caches keep, would work.
-- Only string handling: Envoy's LuaJIT has no JSON library, and the transcoder's output shape is fixed
-- (preserve_proto_field_names, always_print_primitive_fields), so what we rewrite is predictable.

local META = "cigar.rest"
local bit = require("bit")

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
local COMPRESS_MIN_BYTES = 256  -- the compressor filters' min_content_length (envoy.yaml.tmpl)

-- The micro-cache: request path (with its query) -> the page as this filter shaped it. One per Envoy worker
-- thread (each has its own Lua state); when its bodies pass MICROCACHE_MAX_BYTES it starts over empty.
local MICROCACHE, microcache_bytes = {}, 0
local MICROCACHE_MAX_BYTES = 8 * 1024 * 1024
local ALL_ROUTES = require("rest_routes")
local METHOD_ORDER = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" }

-- The `error` of an answer that carries no google.rpc.ErrorInfo reason (Envoy's own, the transcoder's).
local STATUS_ERRORS = {
  ["400"] = "invalid_request", ["401"] = "invalid_token", ["403"] = "forbidden", ["404"] = "not_found",
  ["405"] = "method_not_allowed", ["408"] = "request_timeout", ["409"] = "conflict",
  ["413"] = "payload_too_large", ["415"] = "unsupported_media_type", ["429"] = "too_many_requests",
  ["431"] = "headers_too_large", ["500"] = "internal_error", ["501"] = "not_implemented",
  ["502"] = "bad_gateway", ["503"] = "unavailable", ["504"] = "timeout",
}
-- What each service is, in words, for the 503 that says which one is down.
local SERVICES = {
  ["cigar.auth.v1.AuthService"] = "the auth service (accounts, logins and profiles)",
  ["cigar.collection.v1.CollectionService"] = "the collection service (cigars)",
}
-- The transcoder's names of proto types, as a JSON client would say them.
local TYPE_WORDS = {
  INT32 = "a whole number from -2147483648 to 2147483647", SINT32 = "a whole number from -2147483648 to 2147483647",
  SFIXED32 = "a whole number from -2147483648 to 2147483647", UINT32 = "a whole number from 0 to 4294967295",
  FIXED32 = "a whole number from 0 to 4294967295", INT64 = "a whole number", SINT64 = "a whole number",
  SFIXED64 = "a whole number", UINT64 = "a whole number of 0 or more", FIXED64 = "a whole number of 0 or more",
  DOUBLE = "a number", FLOAT = "a number", BOOL = "true or false", STRING = "a string (text in double quotes)",
  BYTES = "base64 text", ENUM = "one of the allowed names", MESSAGE = "a JSON object",
}

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

-- The methods some route serves at this path (HEAD with GET, OPTIONS always), as an Allow value, or nil.
local function allowed_methods(path)
  local p = path:gsub("%?.*$", ""):gsub("/+$", "")
  local found = {}
  for _, route in ipairs(ALL_ROUTES) do
    if p:find(route.pattern) then
      found[route.method] = true
      if route.method == "GET" then found.HEAD = true end
    end
  end
  if next(found) == nil then return nil end
  found.OPTIONS = true
  local list = {}
  for _, m in ipairs(METHOD_ORDER) do
    if found[m] then list[#list + 1] = m end
  end
  return table.concat(list, ", ")
end

-- An error answer of this filter's own, in the one error shape; the local reply config keeps it as it is.
local function respond_error(handle, status, reason, detail, extra_headers)
  local headers = { [":status"] = status, ["content-type"] = "application/json" }
  for k, v in pairs(extra_headers or {}) do headers[k] = v end
  handle:streamInfo():dynamicMetadata():set(META, "own_reply", "1")
  local text = json_string(detail)
  handle:respond(headers, '{"error":' .. json_string(reason) .. ',"error_description":' .. text
    .. ',"detail":' .. text .. "}")
end

local function refuse_query_parameter(handle, route, name)
  local where = route.path:find("{" .. name:match("^[^.]*"), 1, true) and "the path" or "the request body"
  local detail = name .. " is taken from " .. where .. " and cannot be given in the URL's query"
  local body = '{"error":"invalid_request","error_description":' .. json_string(detail) .. ',"detail":'
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

-- Whether an If-None-Match value matches the ETag (weak comparison, RFC 9110 §13.1.2).
local function none_match(header, etag)
  if header == nil or header == "" then return false end
  if header:find("^%s*%*%s*$") then return true end
  for candidate in header:gmatch("[^,]+") do
    candidate = candidate:gsub("^%s*", ""):gsub("%s*$", ""):gsub("^W/", "")
    if candidate == etag then return true end
  end
  return false
end

-- Whether the client takes the compressor filters' encodings (then a body of 256 bytes or more goes out
-- compressed, and its ETag must be the weak one: the filters drop a strong one).
local function takes_compression(headers)
  local accept = (headers:get("accept-encoding") or ""):lower()
  local compressible = accept:find("gzip", 1, true) or accept:find("br", 1, true)
  return compressible and not accept:find(";%s*q=0[%s,.]")
end

local function sent_etag(strong, length, compressed)
  if compressed and length >= COMPRESS_MIN_BYTES then return "W/" .. strong end
  return strong
end

-- A fresh kept page for this request: answered here, 304 when If-None-Match matches. True when answered.
local function answer_from_microcache(handle, headers, path)
  local entry = MICROCACHE[path]
  if entry == nil or headers:get("authorization") ~= nil then return false end
  local now = os.time()
  if now >= entry.expires then
    -- Expired: this request asks the service, and until its answer replaces the page (or its error drops
    -- it), the requests that come meanwhile still get this one: one call per page and TTL, not one per
    -- client in flight when the clock ticks over.
    if entry.refreshing == nil or now >= entry.refreshing then
      entry.refreshing = now + 1
      return false
    end
  end
  local etag = sent_etag(entry.etag, #entry.body, takes_compression(headers))
  local out = { ["content-type"] = "application/json", ["cache-control"] = entry.cache_control, ["etag"] = etag,
                ["vary"] = "Origin", ["age"] = tostring(now - entry.stored) }
  if entry.link then out["link"] = entry.link end
  local meta = handle:streamInfo():dynamicMetadata()
  meta:set(META, "own_reply", "1")  -- kept as it is by the local reply config, and by envoy_on_response
  meta:set(META, "microcache", "hit")
  if none_match(headers:get("if-none-match"), entry.etag) then
    out[":status"] = "304"
    out["cache-control"] = entry.cache_control .. ", no-transform"  -- no compressed empty body
    handle:respond(out, "")
  else
    out[":status"] = "200"
    handle:respond(out, entry.body)
  end
  return true
end

local function keep_in_microcache(path, seconds, body, etag, link, cache_control)
  if microcache_bytes + #body > MICROCACHE_MAX_BYTES then
    MICROCACHE, microcache_bytes = {}, 0
  end
  local old = MICROCACHE[path]
  if old then microcache_bytes = microcache_bytes - #old.body end
  local now = os.time()
  MICROCACHE[path] = { body = body, etag = etag, link = link, cache_control = cache_control, stored = now,
                       expires = now + seconds }
  microcache_bytes = microcache_bytes + #body
end

function envoy_on_request(handle)
  local headers = handle:headers()
  local ctype = (headers:get("content-type") or ""):lower()
  if ctype == "application/grpc" or ctype:find("^application/grpc[+;]") then
    -- A gRPC client on the REST port: its call and answer pass untouched (the shims below are for REST).
    handle:streamInfo():dynamicMetadata():set(META, "grpc", "1")
    return
  end
  local method = headers:get(":method") or ""
  local path = headers:get(":path") or ""
  if (method == "GET" or method == "HEAD") and answer_from_microcache(handle, headers, path) then return end
  strip_grpc_metadata(headers)
  if method == "OPTIONS" and headers:get("origin") == nil then
    -- not a CORS preflight (those are answered by the CORS filter): say what the API allows
    handle:respond({ [":status"] = "204", ["allow"] = "GET, POST, PATCH, DELETE, OPTIONS" }, "")
    return
  end
  local route = route_of(method == "HEAD" and "GET" or method, path)
  if route == nil then
    -- Envoy's catch-all route (a route entry, so that CORS applies to these answers) says fallback.
    local fallback = handle:metadata():get("fallback")
    local allow = fallback and allowed_methods(path)
    if allow then
      respond_error(handle, "405", "method_not_allowed", method .. " is not allowed here; allowed: " .. allow,
        { ["allow"] = allow })
      return
    elseif fallback then
      local where = path:gsub("%?.*$", "")
      respond_error(handle, "404", "not_found", "no such path: " .. where)
      return
    end
  end
  local refused = route and refused_query_parameter(route, path)
  if refused then
    refuse_query_parameter(handle, route, refused)
    return
  end
  local meta = handle:streamInfo():dynamicMetadata()
  meta:set(META, "rpc", route and route.rpc or "")
  meta:set(META, "has_auth", headers:get("authorization") ~= nil and "1" or "0")
  if route and route.bare_array then
    meta:set(META, "path", (path:gsub("%?.*$", "")))
    meta:set(META, "query", path:match("%?(.*)$") or "")
  end
  if route and route.etag then
    meta:set(META, "if_none_match", headers:get("if-none-match") or "")
    meta:set(META, "compressed", takes_compression(headers) and "1" or "0")
    local seconds = handle:metadata():get("shared_max_age") or "0"
    meta:set(META, "shared_max_age", seconds)
    if route.bare_array and seconds ~= "0" and headers:get("authorization") == nil then
      meta:set(META, "microcache", path)  -- what to keep the page under
    end
  end
  if method == "HEAD" and route then
    headers:replace(":method", "GET")  -- the transcoder maps GETs; envoy_on_response drops the body
    meta:set(META, "head", "1")
  end
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

-- A 204 or 304 has no body, but the compressor filters would write an empty gzip stream as one (the next
-- answer on the connection would start with its bytes): no-transform is the directive they skip on.
local function no_transform(h)
  local cc = h:get("cache-control")
  h:replace("cache-control", cc and (cc .. ", no-transform") or "no-transform")
end

local function replace_body(handle, text)
  local body = handle:body()
  body:setBytes(text)
  handle:headers():replace("content-length", tostring(#text))
end

-- Access-Control-Allow-Origin names the asking origin (the CORS filter sets it after this filter): an answer a
-- cache may keep says that it differs by Origin, or one origin's kept copy would be handed to another.
local function vary_on_origin(h)
  local vary = h:get("vary")
  if vary == nil or vary == "" then
    h:replace("vary", "Origin")
  elseif not vary:lower():find("origin", 1, true) then
    h:replace("vary", vary .. ", Origin")
  end
end

-- A 204 or a 304: the status alone, without a body or the headers that describe one.
local function without_body(handle, status)
  replace_body(handle, "")
  local h = handle:headers()  -- re-fetched: body() invalidated earlier handles
  h:replace(":status", status)
  h:remove("content-type")
  h:remove("content-length")
  no_transform(h)
end

-- Two 32-bit hashes of the body (FNV-1a and djb2-xor) and its length: a strong ETag for change detection
-- (not a cryptographic digest: a body's owner could craft a collision, and only stale caching would follow).
local function etag_of(s)
  local h1, h2 = 2166136261, 5381
  local bxor, tobit, lshift = bit.bxor, bit.tobit, bit.lshift
  for i = 1, #s do  -- JIT-compiled in Envoy: ~18 us for a page of ten cigars (1.3 KB)
    local c = s:byte(i)
    h1 = bxor(h1, c)
    h1 = tobit(lshift(h1, 24) + (h1 % 4294967296) * 403)  -- h1 * 16777619 (mod 2^32), exact in doubles
    h2 = bxor(tobit(h2 * 33), c)
  end
  return string.format('"%x-%08x%08x"', #s, h1 % 4294967296, h2 % 4294967296)
end


-- The query string of the next page: the request's own parameters (filters, limit or page_size) but
-- skip and page_token, which the next page's token replaces (it already points past the skipped rows).
local function next_page_query(query, token)
  local parts = { "page_token=" .. token:gsub("=", "%%3D") }
  for pair in query:gmatch("[^&]+") do
    local name = url_decode(pair:match("^([^=]*)"))
    if name ~= "skip" and name ~= "page_token" and name ~= "pageToken" then parts[#parts + 1] = pair end
  end
  return table.concat(parts, "&")
end

-- The transcoder's own 400s (the JSON could not become the request message), in words, with the field.
local function reworded_parse_error(message)
  local field, value, proto_type = message:match('^([%w_.]*): invalid value (.*) for type TYPE_(%u+%d*)$')
  if field and field ~= "" then
    local expected = TYPE_WORDS[proto_type] or "a value of another kind"
    local description = "must be " .. expected
    return field .. " " .. description .. ", not " .. value, field, description
  end
  if message:find("Root element must be a message", 1, true) then
    return "the request body must be a JSON object", nil, nil
  end
  if message:find("is not repeating, cannot start list", 1, true) then
    return "a field that takes one value was given a JSON list", nil, nil
  end
  local first = message:match("^([^\n]*)") or message
  if message:find("^Unexpected") or message:find("^Expected") or message:find("^Invalid") then
    return "the request body is not valid JSON: " .. first, nil, nil
  end
  return nil, nil, nil
end

local function error_body(reason, detail, code, field, description)
  local text = json_string(detail)
  local body = '{"error":' .. json_string(reason) .. ',"error_description":' .. text .. ',"detail":' .. text
  if code then body = body .. ',"code":' .. code end
  if field then
    body = body .. ',"details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","field_violations":[{"field":'
      .. json_string(field) .. ',"description":' .. json_string(description) .. "}]}]"
  end
  return body .. "}"
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

-- Any error body as {"error","detail",...}: google.rpc.Status JSON {"code","message","details"} from the
-- transcoder, {"detail"} from Envoy's local reply config (its own replies, the transcoder's parse errors).
local function reshape_error(raw, status, rpc)
  local code, rest = raw:match('^{"code":(%d+),"message":(.*)$')
  if code then
    local reason = raw:match('"reason":"([%w_]+)"') or STATUS_ERRORS[status] or "error"
    local message = json_string_at(rest, 1)  -- error_description (RFC 6749 §5.2) repeats it
    local description = message and (',"error_description":' .. message) or ""
    return '{"error":' .. json_string(reason) .. description .. ',"code":' .. code .. ',"detail":' .. rest
  end
  if raw:find('^{"error":') then return nil end  -- already in shape (this filter's own answers)
  local message = raw:match('^{"detail":"(.*)"}%s*$')
  if message then
    message = message:gsub('\\"', '"'):gsub("\\n", "\n"):gsub("\\\\", "\\")
  else
    message = raw
  end
  local reason = STATUS_ERRORS[status] or "error"
  if status == "400" then
    local detail, field, description = reworded_parse_error(message)
    if detail then return error_body(reason, detail, 3, field, description) end
  end
  if status == "503" or status == "504" then
    local service = SERVICES[(rpc or ""):match("^(.*)%.[^.]*$") or ""] or "a backend service"
    local detail = service .. (status == "503" and " is unavailable" or " did not answer in time")
      .. "; try again in a few seconds"
    return error_body(reason, detail, status == "503" and 14 or 4)
  end
  return error_body(reason, message ~= "" and message or "error")
end

-- A unary call's trailers (grpc-status: 0) are gRPC plumbing: chunked HTTP/1.1 answers (the compressed ones)
-- would carry them. Streamed routes keep theirs (an export that fails half way says so there).
local function drop_grpc_trailers(handle, route, compressed)
  if not compressed then return end  -- with a Content-Length, HTTP/1.1 sends no trailers
  if route and route.bare_array == nil and route.etag == nil and route.location == nil then return end
  local trailers = handle:trailers()
  if trailers then
    trailers:remove("grpc-status")
    trailers:remove("grpc-message")
  end
end

local function shape_response(handle, meta)
  -- gRPC answers keep grpc-status and grpc-message: in a trailers-only error they are in these headers.
  if meta["grpc"] == "1" or meta["microcache"] == "hit" then return end
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
  headers:remove("grpc-accept-encoding")

  if status == "401" then
    local challenge = meta["has_auth"] == "1" and 'Bearer error="invalid_token"' or "Bearer"
    headers:replace("www-authenticate", challenge)
  end
  if route and route.headers then
    local shared = tonumber(meta["shared_max_age"] or "0") or 0
    for _, header in ipairs(route.headers) do
      local value = header.value
      -- the gateway's micro-cache keeps a public answer this long (GATEWAY_MICROCACHE_SECONDS)
      local public = header.name == "cache-control" and value:find("public", 1, true)
      if public and shared > 0 then value = value .. ", s-maxage=" .. shared end
      -- an error is no page to keep: a public Cache-Control goes on successes only
      if not (public and tonumber(status) >= 400) then headers:replace(header.name, value) end
    end
  end

  if status == "200" then
    if route == nil then return end
    if route.status == 204 then
      without_body(handle, "204")
      return
    end
    local link = nil
    if route.etag or route.location then handle:body() end  -- the whole body first (trailers() would pass it)
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
      local token = raw:match('"next_page_token":"([%w_%-=]+)"}$')
      if token then
        link = "<" .. (meta["path"] or route.path) .. "?" .. next_page_query(meta["query"] or "", token)
          .. '>; rel="next"'
      end
      if array then replace_body(handle, array) end
    end
    if link then handle:headers():replace("link", link) end
    if route.location then
      local raw = handle:body():getBytes(0, handle:body():length())
      local filled = route.location:gsub("{([%w_]+)}", function(name)
        return raw:match('"' .. name .. '":(%-?%d+)') or raw:match('"' .. name .. '":"([^"\\]*)"') or ""
      end)
      handle:headers():replace("location", filled)
    end
    if route.etag then
      local body = handle:body()
      local text = body:getBytes(0, body:length())
      local strong = etag_of(text)
      -- The compressor filter (envoy.yaml.tmpl: 256 bytes and up, for clients that accept gzip or br) drops
      -- a strong ETag from what it compresses: those answers carry the weak form of the same validator.
      local etag = sent_etag(strong, #text, meta["compressed"] == "1")
      local h = handle:headers()
      h:replace("etag", etag)
      vary_on_origin(h)
      local kept_as = meta["microcache"]
      if kept_as and kept_as ~= "hit" then
        keep_in_microcache(kept_as, tonumber(meta["shared_max_age"]) or 0, text, strong, link,
          h:get("cache-control") or "")
      end
      if none_match(meta["if_none_match"], strong) then
        drop_grpc_trailers(handle, route, meta["compressed"] == "1")
        without_body(handle, "304")
        return
      end
    end
    drop_grpc_trailers(handle, route, meta["compressed"] == "1")
    if route.status ~= 200 then
      handle:headers():replace(":status", tostring(route.status))  -- re-fetched: body() may have run
    end
    return
  end

  local kept_as = meta["microcache"]
  if kept_as and kept_as ~= "hit" and MICROCACHE[kept_as] then
    microcache_bytes = microcache_bytes - #MICROCACHE[kept_as].body
    MICROCACHE[kept_as] = nil  -- the service answered no page: the kept one stops being served
  end

  if tonumber(status) and tonumber(status) >= 400 then
    local body = handle:body()
    local raw = body and body:getBytes(0, body:length()) or ""
    local shaped = reshape_error(raw, status, meta["rpc"])
    -- RFC 6585 §4: a 429 says when to come back. auth_service puts it in google.rpc.RetryInfo.
    local delay = raw:match('"retry_?[dD]elay":"(%d+)')
    if status == "429" and delay then handle:headers():replace("retry-after", delay) end
    if shaped then
      if body == nil then
        handle:headers():replace("content-type", "application/json")
        return  -- no body to replace (HEAD): the status says it
      end
      replace_body(handle, shaped)
      handle:headers():replace("content-type", "application/json")
    end
  end
end

-- A HEAD asked as a GET (envoy_on_request) gets the GET's headers and no body. Envoy goes by the method the
-- request had when it was routed (GET), so it would send the body after the headers, where a keep-alive
-- client reads it as the start of the next answer. Content-Length stays the GET's (RFC 9110 §9.3.2).
local function headers_only(handle)
  local body = handle:body()
  local length = body and body:length() or 0
  if length == 0 then return end
  body:setBytes("")
  local h = handle:headers()
  h:replace("content-length", tostring(length))
  no_transform(h)  -- nothing for the compressors to do, and an empty gzip stream would be a body again
end

function envoy_on_response(handle)
  local meta = handle:streamInfo():dynamicMetadata():get(META) or {}
  shape_response(handle, meta)
  if meta["head"] == "1" then headers_only(handle) end
end
