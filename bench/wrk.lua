-- wrk script of issue 13: MCP tools/call POSTs (ours, the no-op) or GETs (the Django peer),
-- with EVERY answer checked, and the count of answers per worker (header x-soporte-trabajador).
--
--   wrk -t2 -c32 -d8s -s bench/wrk.lua URL -- mcp TOOL 'ARGS_JSON' [IDS_FILE]
--   wrk -t2 -c32 -d8s -s bench/wrk.lua URL -- get PATH EXPECTED [IDS_FILE]
--
-- mcp: the 2026-07-28 stateless POST bench/carga.py sends (same headers, same _meta); an answer
--      is good when it is HTTP 200 with a JSON-RPC result whose isError is false.
-- get: PATH may hold "{id}", replaced per request by a random id of IDS_FILE; an answer is good
--      when it is 2xx and holds the text EXPECTED.
-- With IDS_FILE (a JSON list of ids), mcp sets arguments.clienteId to a random one per call.
-- At the end it prints one line "RESULTADO {json}" with the counts of all threads.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local modo, herramienta, argumentos, ruta, esperado
local ids = nil
-- Globals, not locals: done() reads them from each thread with thread:get().
n, malos, no2xx = 0, 0, 0
primer_malo = ""
por_trabajador = {}
local cabeceras_mcp = {
  ["Accept"] = "application/json, text/event-stream",
  ["Content-Type"] = "application/json",
  ["MCP-Protocol-Version"] = "2026-07-28",
  ["Mcp-Method"] = "tools/call",
}
local meta = '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
  .. '"io.modelcontextprotocol/clientInfo":{"name":"bench-wrk","version":"1"},'
  .. '"io.modelcontextprotocol/clientCapabilities":{}}'

local function leer_ids(archivo)
  local f = assert(io.open(archivo, "r"))
  local texto = f:read("*a")
  f:close()
  local lista = {}
  for id in texto:gmatch("%d+") do
    table.insert(lista, id)
  end
  return lista
end

function init(args)
  modo = args[1]
  if modo == "mcp" then
    herramienta, argumentos = args[2], args[3]
    cabeceras_mcp["Mcp-Name"] = herramienta
  else
    ruta, esperado = args[2], args[3]
  end
  if args[4] and args[4] ~= "" then
    ids = leer_ids(args[4])
  end
  math.randomseed(os.time() + (wrk.thread and tonumber(tostring(wrk.thread):match("0x(%x+)") or "0", 16) or 0))
end

local siguiente = 0

function request()
  siguiente = siguiente + 1
  local id = ids and ids[math.random(#ids)] or nil
  if modo == "mcp" then
    local args = argumentos
    if id then
      args = args:gsub("}%s*$", (args:match("^%s*{%s*}%s*$") and "" or ",") .. '"clienteId":' .. id .. "}")
    end
    local cuerpo = '{"jsonrpc":"2.0","id":' .. siguiente .. ',"method":"tools/call","params":{"name":"'
      .. herramienta .. '","arguments":' .. args .. "," .. meta .. "}}"
    return wrk.format("POST", nil, cabeceras_mcp, cuerpo)
  end
  local p = ruta
  if id then
    p = p:gsub("{id}", id)
  end
  return wrk.format("GET", p)
end

function response(status, headers, body)
  n = n + 1
  local w = headers["x-soporte-trabajador"]
  if w then
    por_trabajador[w] = (por_trabajador[w] or 0) + 1
  end
  local bueno
  if status < 200 or status > 299 then
    no2xx = no2xx + 1
    bueno = false
  elseif modo == "mcp" then
    bueno = body:find('"result"', 1, true) and body:find('"isError":false', 1, true)
  else
    bueno = body:find(esperado, 1, true)
  end
  if not bueno then
    malos = malos + 1
    if primer_malo == "" then
      primer_malo = status .. " " .. body:sub(1, 200)
    end
  end
end

local function json_texto(s)
  return '"' .. s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("%c", " ") .. '"'
end

function done(summary, latency, requests)
  local total, total_malos, total_no2xx, primero = 0, 0, 0, ""
  local trabajadores = {}
  for _, t in ipairs(threads) do
    total = total + t:get("n")
    total_malos = total_malos + t:get("malos")
    total_no2xx = total_no2xx + t:get("no2xx")
    if primero == "" then
      primero = t:get("primer_malo")
    end
    for k, v in pairs(t:get("por_trabajador")) do
      trabajadores[k] = (trabajadores[k] or 0) + v
    end
  end
  local partes = {}
  for k, v in pairs(trabajadores) do
    table.insert(partes, '"' .. k .. '":' .. v)
  end
  local e = summary.errors
  io.write(string.format(
    'RESULTADO {"respuestas":%d,"malos":%d,"no2xx":%d,"primer_malo":%s,"por_trabajador":{%s},'
      .. '"peticiones":%d,"segundos":%.6f,"errores_socket":%d,"p50_ms":%.3f,"p99_ms":%.3f}\n',
    total, total_malos, total_no2xx, json_texto(primero), table.concat(partes, ","),
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000
  ))
end
