// The view side of MCP Apps (io.modelcontextprotocol/ui): JSON-RPC 2.0 over postMessage with the host.
// Hand-written on purpose: ext-apps' App with its dependencies weighs ~650 KB; this is what we use of it.
"use strict";
const Puente = (() => {
  const VERSION_PROTOCOLO = "2026-01-26";
  const pendientes = new Map();
  const oyentes = {};
  let siguienteId = 1;
  let contexto = {};

  const enviar = (mensaje) => window.parent.postMessage({ jsonrpc: "2.0", ...mensaje }, "*");
  const responder = (id, result) => enviar({ id, result });

  window.addEventListener("message", (evento) => {
    if (evento.source !== window.parent) return;  // only the host speaks to us
    const m = evento.data;
    if (!m || m.jsonrpc !== "2.0") return;
    if (m.method === undefined) {  // an answer to one of our requests
      const pendiente = pendientes.get(m.id);
      if (!pendiente) return;
      pendientes.delete(m.id);
      if (m.error) pendiente.reject(new Error(m.error.message || "El anfitrión rechazó la petición."));
      else pendiente.resolve(m.result);
    } else if (m.id !== undefined) {  // a request from the host
      if (m.method === "ping" || m.method === "ui/resource-teardown") responder(m.id, {});
      else enviar({ id: m.id, error: { code: -32601, message: "Método no soportado por esta vista: " + m.method } });
    } else if (m.method === "ui/notifications/host-context-changed") {
      aplicarContexto({ ...contexto, ...(m.params || {}) });
    } else if (oyentes[m.method]) {
      oyentes[m.method](m.params || {});
    }
  });

  function pedir(method, params) {
    const id = siguienteId++;
    return new Promise((resolve, reject) => {
      pendientes.set(id, { resolve, reject });
      enviar({ id, method, params });
    });
  }

  // The host's theme wins; without one, the system's (prefers-color-scheme, in the CSS).
  function aplicarContexto(nuevo) {
    contexto = nuevo || {};
    const raiz = document.documentElement;
    if (contexto.theme === "light" || contexto.theme === "dark") raiz.dataset.tema = contexto.theme;
    const variables = (contexto.styles && contexto.styles.variables) || {};
    for (const [clave, valor] of Object.entries(variables)) {
      if (/^--[a-z0-9-]+$/.test(clave) && typeof valor === "string") raiz.style.setProperty(clave, valor);
    }
    if (contexto.locale) raiz.lang = contexto.locale;
  }

  function avisarTamano() {
    let ultimo = "";
    const medir = () => {
      const alto = Math.ceil(document.documentElement.scrollHeight);
      const ancho = Math.ceil(document.documentElement.scrollWidth);
      const clave = ancho + "x" + alto;
      if (clave === ultimo) return;
      ultimo = clave;
      enviar({ method: "ui/notifications/size-changed", params: { width: ancho, height: alto } });
    };
    new ResizeObserver(medir).observe(document.body);
    medir();
  }

  return {
    /** Registers what to do with the tool's input, its result, or its cancellation. */
    al(method, fn) { oyentes[method] = fn; },
    /** The handshake: ui/initialize, then ui/notifications/initialized. */
    async iniciar(nombre) {
      const r = await pedir("ui/initialize", {
        appInfo: { name: nombre, version: "1.0.0" },
        appCapabilities: {},
        protocolVersion: VERSION_PROTOCOLO,
      });
      aplicarContexto((r && r.hostContext) || {});
      enviar({ method: "ui/notifications/initialized", params: {} });
      avisarTamano();
    },
    /** A tools/call through the host (which may ask the person first). Resolves to the CallToolResult. */
    llamar(name, args) { return pedir("tools/call", { name, arguments: args }); },
    contexto() { return contexto; },
  };
})();

// DOM helpers: data always goes in as text (textContent / text nodes), never as markup.
function el(etiqueta, atributos, ...hijos) {
  const nodo = document.createElement(etiqueta);
  for (const [clave, valor] of Object.entries(atributos || {})) {
    if (valor === false || valor === null || valor === undefined) continue;
    if (clave === "texto") nodo.textContent = String(valor);
    else if (clave === "clase") nodo.className = valor;
    else if (typeof valor === "function") nodo.addEventListener(clave, valor);
    else nodo.setAttribute(clave, valor === true ? "" : String(valor));
  }
  for (const hijo of hijos) {
    if (hijo === null || hijo === undefined || hijo === false) continue;
    nodo.append(hijo instanceof Node ? hijo : document.createTextNode(String(hijo)));
  }
  return nodo;
}

function texto(id, valor) { document.getElementById(id).textContent = valor == null ? "" : String(valor); }

// The tool's error text without the SDK's English prefix ("Error executing tool X: ").
function textoDeError(resultado) {
  const partes = (resultado && resultado.content) || [];
  const t = partes.filter((p) => p.type === "text").map((p) => p.text).join(" ").trim();
  return t.replace(/^Error executing tool \S+:\s*/, "") || "La herramienta devolvió un error sin detalle.";
}

// What a tool returned: its structured content, or else the same JSON sent as text.
function datosDe(resultado) {
  if (resultado && resultado.structuredContent) return resultado.structuredContent;
  const parte = ((resultado && resultado.content) || []).find((p) => p.type === "text");
  return parte ? JSON.parse(parte.text) : null;
}

function fecha(iso, conHora) {
  if (!iso) return "—";
  // A bare day ("2026-11-30") is a calendar date, not an instant: shown as such in any time zone.
  const soloDia = /^\d{4}-\d{2}-\d{2}$/.test(iso);
  const d = new Date(soloDia ? iso + "T12:00:00Z" : iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const opciones = conHora ? { dateStyle: "medium", timeStyle: "short" } : { dateStyle: "medium" };
  const zona = soloDia ? "UTC" : Puente.contexto().timeZone;
  try {
    return new Intl.DateTimeFormat("es", zona ? { ...opciones, timeZone: zona } : opciones).format(d);
  } catch (_) {
    return new Intl.DateTimeFormat("es", opciones).format(d);
  }
}

function mostrarError(id, mensaje) {
  const nodo = document.getElementById(id);
  nodo.textContent = mensaje || "";
  nodo.hidden = !mensaje;
}
