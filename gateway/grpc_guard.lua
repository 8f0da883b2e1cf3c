-- gRPC calls on the gateway's port (native, or gRPC-Web that the grpc_web filter has made gRPC) that grpc-python
-- would mishandle are answered here, at once, with the status they deserve:
--   * a body that is not whole messages: grpc-python waits for the rest of a body that ends inside a message,
--     or has none, until the route's timeout (a browser's malformed call was a 504 after 15 s, holding its
--     connection all along). INVALID_ARGUMENT. Every method takes at least one message (the one client
--     stream, an import, refuses an empty file anyway).
--   * metadata grpc-python cannot parse (a grpc-timeout that is not 1-8 digits and a unit, a "-bin" value that
--     is not base64) is INTERNAL there: INVALID_ARGUMENT here; an unknown grpc-encoding is UNIMPLEMENTED.
-- After the CORS filter, so that browsers can read the refusal; after the buffer filter, so the body is
-- already whole here (at most 64 KiB).

local ENCODINGS = { identity = true, gzip = true, deflate = true }  -- what grpc-python decodes

-- Whether `body` is one or more messages, each a flag byte, a 4-byte big-endian length and that many bytes.
local function whole_messages(body)
  local size = body and body:length() or 0
  local at = 0
  while at + 5 <= size do
    local b1, b2, b3, b4 = body:getBytes(at + 1, 4):byte(1, 4)
    at = at + 5 + ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  end
  return size > 0 and at == size
end

-- The status and message a call's metadata deserves, or nil when grpc-python can take it.
local function bad_metadata(headers)
  for key, value in pairs(headers) do
    if key == "grpc-timeout" and not value:find("^%d%d?%d?%d?%d?%d?%d?%d?[HMSmun]$") then
      return "3", "grpc-timeout must be 1 to 8 digits and a unit (H, M, S, m, u or n)"
    elseif key == "grpc-encoding" and not ENCODINGS[value] then
      return "12", "grpc-encoding " .. value:sub(1, 40) .. " is not supported (identity, gzip, deflate are)"
    elseif key:find("%-bin$") and not value:find("^[%w+/]*=?=?$") then
      return "3", key .. " must be base64"
    end
  end
  return nil
end

local function refuse(handle, status, message)
  handle:respond({ [":status"] = "200", ["content-type"] = "application/grpc", ["grpc-status"] = status,
    ["grpc-message"] = message }, "")
end

function envoy_on_request(handle)
  local headers = handle:headers()
  local ctype = (headers:get("content-type") or ""):lower()
  if not (ctype == "application/grpc" or ctype:find("^application/grpc[+;]")) then return end
  local status, message = bad_metadata(headers)
  if status then
    refuse(handle, status, message)
  elseif headers:get(":method") == "POST" and not whole_messages(handle:body()) then
    refuse(handle, "3", "the request body is not whole gRPC messages")
  end
end

function envoy_on_response(handle)
end
