// The web chat page.  Everything that came from a person, the model or a tool is put in the
// page with textContent (or the Markdown renderer, which does the same): never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const estado = { csrf: "", conversacion: null, enCurso: false, burbuja: null, texto: "", tarjetas: new Map() };

const ESTADOS = {
  en_curso: "en curso", esperando: "espera su confirmación", ok: "hecho", error: "error",
  rechazada: "rechazada", cancelada: "cancelada",
};
const DESENLACES = { accept: "aceptado", decline: "rechazado", cancel: "cancelado" };

function el(etiqueta, clase, texto) {
  const nodo = document.createElement(etiqueta);
  if (clase) nodo.className = clase;
  if (texto !== undefined) nodo.textContent = texto;
  return nodo;
}

class ErrorApi extends Error {
  constructor(mensaje, codigo, estadoHttp) { super(mensaje); this.codigo = codigo; this.estadoHttp = estadoHttp; }
}

async function api(metodo, ruta, cuerpo) {
  const opciones = { method: metodo, headers: { "X-CSRF-Token": estado.csrf }, credentials: "same-origin" };
  if (cuerpo !== undefined) {
    opciones.headers["Content-Type"] = "application/json";
    opciones.body = JSON.stringify(cuerpo);
  }
  let respuesta;
  try {
    respuesta = await fetch(ruta, opciones);
  } catch (e) {
    throw new ErrorApi("No hay conexión con el servidor del chat. Compruebe que sigue en marcha.", "sin_conexion", 0);
  }
  if (!respuesta.ok) throw await errorDe(respuesta);
  return respuesta;
}

async function errorDe(respuesta) {
  let datos = null;
  try { datos = (await respuesta.json()).error; } catch (e) { /* not JSON */ }
  if (respuesta.status === 401 && datos && ["login_requerido", "sin_sesion"].includes(datos.codigo)) {
    setTimeout(iniciar, 0);
  }
  return new ErrorApi(datos ? datos.mensaje : `El servidor respondió ${respuesta.status}.`,
                      datos ? datos.codigo : "http", respuesta.status);
}

async function json(metodo, ruta, cuerpo) {
  const respuesta = await api(metodo, ruta, cuerpo);
  return respuesta.status === 204 ? null : respuesta.json();
}

// Start: who am I, then the login form or the chat.
async function iniciar() {
  let yo;
  try {
    yo = await (await fetch("/api/yo", { credentials: "same-origin" })).json();
  } catch (e) {
    $("cargando").textContent = "No se pudo contactar con el servidor del chat.";
    return;
  }
  estado.csrf = yo.csrf;
  $("cargando").hidden = true;
  $("vista-login").hidden = !yo.login_requerido;
  $("vista-chat").hidden = yo.login_requerido;
  if (yo.login_requerido) {
    $("usuario").focus();
    return;
  }
  $("cuenta").textContent = yo.cuenta || "";
  $("salir").hidden = !yo.cuenta;
  $("modelo").textContent = `Modelo ${yo.modelo} · ${yo.herramientas.length} herramientas`;
  await cargarLista();
  const ultima = sessionStorage.getItem("conversacion");
  const existe = ultima && [...$("conversaciones").children].some((li) => li.dataset.id === ultima);
  if (existe) await abrir(ultima); else mostrarVacia();
  $("entrada").focus();
}

$("form-login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const aviso = $("login-error");
  aviso.hidden = true;
  $("entrar").disabled = true;
  try {
    const datos = await json("POST", "/api/login", { nombre: $("usuario").value, clave: $("clave").value });
    estado.csrf = datos.csrf;
    $("clave").value = "";
    await iniciar();
  } catch (e) {
    aviso.textContent = e.message;
    aviso.hidden = false;
    $("clave").select();
  } finally {
    $("entrar").disabled = false;
  }
});

$("salir").addEventListener("click", async () => {
  await json("POST", "/api/logout").catch(() => null);
  sessionStorage.removeItem("conversacion");
  estado.conversacion = null;
  $("mensajes").replaceChildren();
  await iniciar();
});

// Conversations
async function cargarLista() {
  const { conversaciones } = await json("GET", "/api/conversaciones");
  const lista = $("conversaciones");
  lista.replaceChildren(...conversaciones.map(itemDeLista));
  $("sin-conversaciones").hidden = conversaciones.length > 0;
  marcarActual();
}

function itemDeLista(c) {
  const li = el("li", "conversacion");
  li.dataset.id = c.id;
  const abrirBoton = el("button", "titulo", c.titulo);
  abrirBoton.type = "button";
  abrirBoton.addEventListener("click", () => { abrir(c.id); cerrarMenu(); });
  const renombrar = el("button", "icono-boton renombrar", "✎");
  renombrar.type = "button";
  renombrar.title = "Renombrar";
  renombrar.setAttribute("aria-label", `Renombrar «${c.titulo}»`);
  renombrar.addEventListener("click", () => renombrarConversacion(c.id, abrirBoton.textContent));
  const borrar = el("button", "icono-boton borrar", "✕");
  borrar.type = "button";
  borrar.title = "Borrar";
  borrar.setAttribute("aria-label", `Borrar «${c.titulo}»`);
  borrar.addEventListener("click", () => borrarConversacion(c.id, abrirBoton.textContent));
  li.append(abrirBoton, renombrar, borrar);
  return li;
}

function marcarActual() {
  for (const li of $("conversaciones").children) {
    const actual = li.dataset.id === estado.conversacion;
    li.classList.toggle("actual", actual);
    li.querySelector(".titulo").setAttribute("aria-current", actual ? "page" : "false");
  }
}

async function renombrarConversacion(id, titulo) {
  const nuevo = prompt("Nuevo título de la conversación:", titulo);
  if (nuevo === null || !nuevo.trim()) return;
  try {
    await json("PATCH", `/api/conversaciones/${id}`, { titulo: nuevo });
    await cargarLista();
  } catch (e) { nota("error", e.message); }
}

async function borrarConversacion(id, titulo) {
  if (!confirm(`¿Borrar la conversación «${titulo}»? No se puede deshacer.`)) return;
  try {
    await json("DELETE", `/api/conversaciones/${id}`);
    if (estado.conversacion === id) { estado.conversacion = null; sessionStorage.removeItem("conversacion"); mostrarVacia(); }
    await cargarLista();
  } catch (e) { nota("error", e.message); }
}

function mostrarVacia() {
  estado.conversacion = null;
  vistas.clear();
  $("mensajes").replaceChildren();
  $("bienvenida").hidden = false;
  marcarActual();
}

async function abrir(id) {
  if (estado.enCurso) return;
  const datos = await json("GET", `/api/conversaciones/${id}`).catch((e) => { nota("error", e.message); return null; });
  if (!datos) return;
  estado.conversacion = id;
  sessionStorage.setItem("conversacion", id);
  estado.tarjetas.clear();
  vistas.clear();
  $("mensajes").replaceChildren();
  $("bienvenida").hidden = datos.vista.length > 0;
  for (const item of datos.vista) dibujar(item);
  marcarActual();
  bajar();
}

function dibujar(item) {
  if (item.tipo === "usuario") mensaje("usuario", item.texto);
  else if (item.tipo === "asistente") mensaje("asistente", item.texto);
  else if (item.tipo === "herramienta") tarjeta(item);
  else if (item.tipo === "formulario") nota("aviso", `Formulario de ${item.servidor}: ${item.mensaje} — ${DESENLACES[item.accion] || item.accion}`);
  else nota(item.tipo, item.mensaje);
}

function mensaje(quien, texto) {
  const nodo = el("div", `mensaje ${quien}`);
  if (quien === "asistente") renderMarkdown(nodo, texto); else nodo.textContent = texto;
  $("mensajes").appendChild(nodo);
  return nodo;
}

function nota(tipo, texto) {
  const nodo = el("div", `nota ${tipo === "error" ? "error" : "aviso"}`, texto);
  nodo.setAttribute("role", tipo === "error" ? "alert" : "status");
  $("mensajes").appendChild(nodo);
  bajar();
}

function tarjeta(item) {
  const nodo = el("div", "tarjeta");
  nodo.dataset.id = item.id;
  const cabeza = el("div", "tarjeta-cab");
  cabeza.append(el("span", "herramienta", item.herramienta), el("span", "servidor", item.servidor));
  if (item.escribe) cabeza.append(el("span", "escribe", "modifica datos"));
  cabeza.append(el("span", "estado"));
  const argumentos = el("pre", "argumentos", JSON.stringify(item.argumentos, null, 2));
  const resultado = el("div", "resultado");
  nodo.append(cabeza, argumentos, resultado);
  $("mensajes").appendChild(nodo);
  estado.tarjetas.set(String(item.id), nodo);
  actualizarTarjeta(nodo, item.estado, item.resumen);
  if (item.vista) montarVista(nodo, item);
  return nodo;
}

// MCP Apps: a tool with a view (`_meta.ui.resourceUri`) shows it under its card, in an iframe
// sandboxed to scripts only (an opaque origin: no cookies, no access to this page), speaking the
// ext-apps host protocol (JSON-RPC over postMessage) with this page.
const vistas = new Map();

function montarVista(nodo, item) {
  if (nodo.querySelector("iframe")) return;
  const marco = el("iframe", "vista-app");
  marco.setAttribute("sandbox", "allow-scripts allow-forms");  // forms: the views' own (each handles submit)
  marco.title = `Vista de ${item.herramienta}`;
  marco.src = `/api/conversaciones/${encodeURIComponent(estado.conversacion)}/vistas/${item.id}`;
  vistas.set(marco, { item, conversacion: estado.conversacion });
  nodo.appendChild(marco);
}

window.addEventListener("message", (ev) => {
  for (const [marco, datos] of vistas) {
    if (ev.source === marco.contentWindow) { atenderVista(marco, datos, ev.data); return; }
  }
});

function aVista(marco, mensaje) {
  // The view's origin is opaque, so "*" is the only target; the message goes to that one window.
  if (marco.contentWindow) marco.contentWindow.postMessage({ jsonrpc: "2.0", ...mensaje }, "*");
}

async function atenderVista(marco, datos, m) {
  if (!m || m.jsonrpc !== "2.0" || typeof m.method !== "string") return;
  const responder = (result) => { if (m.id !== undefined) aVista(marco, { id: m.id, result }); };
  const fallar = (code, message) => { if (m.id !== undefined) aVista(marco, { id: m.id, error: { code, message } }); };
  const params = m.params || {};
  switch (m.method) {
    case "ui/initialize":
      responder({
        protocolVersion: params.protocolVersion || "2026-01-26",
        hostInfo: { name: "soporte-chat", version: "web" },
        hostCapabilities: { serverTools: {}, openLinks: {} },
        hostContext: { theme: "light", displayMode: "inline", availableDisplayModes: ["inline"], locale: "es",
                       platform: "web" },
      });
      break;
    case "ui/notifications/initialized":
      aVista(marco, { method: "ui/notifications/tool-input", params: { arguments: datos.item.argumentos } });
      aVista(marco, { method: "ui/notifications/tool-result", params: datos.item.resultado_mcp });
      break;
    case "ui/notifications/size-changed":
      if (Number.isFinite(params.height)) marco.style.height = Math.min(Math.max(params.height, 40), 2000) + "px";
      break;
    case "tools/call":
      try {
        const r = await json("POST", `/api/conversaciones/${encodeURIComponent(datos.conversacion)}/vistas/${datos.item.id}/herramienta`,
                             { nombre: params.name, argumentos: params.arguments || {} });
        responder(r);
      } catch (e) { fallar(-32603, e.message); }
      break;
    case "ui/open-link":
      if (/^https?:\/\//i.test(String(params.url))) { window.open(String(params.url), "_blank", "noopener,noreferrer"); responder({}); }
      else fallar(-32602, "Solo se abren enlaces http(s).");
      break;
    case "ping": responder({}); break;
    default: fallar(-32601, `Método no admitido: ${m.method}`);
  }
}

function actualizarTarjeta(nodo, valor, resumen) {
  nodo.dataset.estado = valor;
  nodo.querySelector(".estado").textContent = ESTADOS[valor] || valor;
  if (resumen) nodo.querySelector(".resultado").textContent = resumen;
  if (valor !== "esperando") nodo.querySelector(".acciones")?.remove();
}

function pedirConfirmacion(id) {
  const nodo = estado.tarjetas.get(String(id));
  if (!nodo) return;
  actualizarTarjeta(nodo, "esperando");
  const acciones = el("div", "acciones");
  const pregunta = el("span", "pregunta", "Esta operación modifica datos. ¿La ejecuta?");
  const aprobar = el("button", "primario aprobar", "Aprobar");
  const rechazar = el("button", "rechazar", "Rechazar");
  for (const [boton, valor] of [[aprobar, true], [rechazar, false]]) {
    boton.type = "button";
    boton.addEventListener("click", async () => {
      aprobar.disabled = rechazar.disabled = true;
      try {
        await json("POST", `/api/conversaciones/${estado.conversacion}/confirmacion`, { aprobar: valor });
        actualizarTarjeta(nodo, valor ? "en_curso" : "rechazada");
      } catch (e) {
        aprobar.disabled = rechazar.disabled = false;
        nota("error", e.message);
      }
    });
  }
  acciones.append(pregunta, aprobar, rechazar);
  nodo.appendChild(acciones);
  bajar();
  aprobar.focus();
}

// A server's form (MCP elicitation): message + simple fields, Aceptar / Rechazar / Cancelar.
function formulario(evento) {
  const form = el("form", "formulario");
  form.dataset.id = evento.id;
  form.append(el("div", "servidor", `El servidor ${evento.servidor} le pregunta:`), el("p", "pregunta", evento.mensaje));
  const esquema = evento.esquema || {};
  const requeridos = new Set(esquema.required || []);
  const campos = [];
  for (const [nombre, prop] of Object.entries(esquema.properties || {})) {
    const campo = campoDe(nombre, prop, requeridos.has(nombre), evento.id);
    campos.push(campo);
    form.appendChild(campo.fila);
  }
  const acciones = el("div", "acciones");
  const botones = [["accept", "Aceptar", "primario"], ["decline", "Rechazar", ""], ["cancel", "Cancelar", "enlace"]];
  for (const [accion, texto, clase] of botones) {
    const boton = el("button", clase, texto);
    boton.type = accion === "accept" ? "submit" : "button";
    boton.dataset.accion = accion;
    if (accion !== "accept") boton.addEventListener("click", () => responder(accion));
    acciones.appendChild(boton);
  }
  form.appendChild(acciones);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); responder("accept"); });

  async function responder(accion) {
    const contenido = {};
    if (accion === "accept") for (const c of campos) { const v = c.valor(); if (v !== undefined) contenido[c.nombre] = v; }
    form.querySelectorAll("button, input, select").forEach((n) => { n.disabled = true; });
    try {
      await json("POST", `/api/conversaciones/${estado.conversacion}/formulario`, { id: evento.id, accion, contenido });
    } catch (e) {
      form.querySelectorAll("button, input, select").forEach((n) => { n.disabled = false; });
      nota("error", e.message);
    }
  }
  $("mensajes").appendChild(form);
  bajar();
  (form.querySelector("input, select") || form.querySelector("button")).focus();
}

function campoDe(nombre, prop, requerido, prefijo) {
  const fila = el("div", "campo");
  const id = `f-${prefijo}-${nombre}`;
  const etiqueta = el("label", "", (prop.title || nombre) + (requerido ? " *" : ""));
  etiqueta.htmlFor = id;
  let entrada;
  const opciones = prop.enum || (prop.oneOf || []).map((o) => o.const);
  if (opciones.length) {
    entrada = el("select");
    const nombres = prop.enumNames || (prop.oneOf || []).map((o) => o.title || o.const);
    opciones.forEach((valor, i) => { const o = el("option", "", String(nombres[i] ?? valor)); o.value = valor; entrada.appendChild(o); });
  } else {
    entrada = el("input");
    entrada.type = prop.type === "boolean" ? "checkbox" : ["number", "integer"].includes(prop.type) ? "number"
      : ({ email: "email", date: "date", uri: "url", "date-time": "datetime-local" }[prop.format] || "text");
    if (prop.type === "integer") entrada.step = "1";
    if (prop.type === "number") entrada.step = "any";
    if (prop.minimum !== undefined) entrada.min = prop.minimum;
    if (prop.maximum !== undefined) entrada.max = prop.maximum;
    if (prop.maxLength !== undefined) entrada.maxLength = prop.maxLength;
  }
  entrada.id = id;
  entrada.required = requerido && prop.type !== "boolean";
  if (prop.default !== undefined) { if (prop.type === "boolean") entrada.checked = !!prop.default; else entrada.value = prop.default; }
  fila.append(etiqueta, entrada);
  if (prop.description) fila.appendChild(el("small", "sutil", prop.description));
  const valor = () => {
    if (prop.type === "boolean") return entrada.checked;
    if (entrada.value === "") return undefined;
    if (prop.type === "integer") return parseInt(entrada.value, 10);
    if (prop.type === "number") return Number(entrada.value);
    return entrada.value;
  };
  return { nombre, fila, valor };
}

// Asking: the answer arrives as server-sent events on the POST's own response.
$("form-mensaje").addEventListener("submit", (ev) => { ev.preventDefault(); enviar(); });
$("entrada").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); enviar(); }
});
$("entrada").addEventListener("input", ajustarAltura);
$("detener").addEventListener("click", detener);
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && estado.enCurso) { ev.preventDefault(); detener(); }
  if (ev.altKey && (ev.key === "n" || ev.key === "N")) { ev.preventDefault(); nueva(); }
});
$("nueva").addEventListener("click", nueva);
$("menu").addEventListener("click", () => {
  const abierto = document.body.classList.toggle("menu-abierto");
  $("menu").setAttribute("aria-expanded", String(abierto));
});

function cerrarMenu() {
  document.body.classList.remove("menu-abierto");
  $("menu").setAttribute("aria-expanded", "false");
}

function ajustarAltura() {
  const entrada = $("entrada");
  entrada.style.height = "auto";
  const alto = entrada.scrollHeight + 2;  // + the borders (box-sizing: border-box)
  entrada.style.height = Math.min(alto, 200) + "px";
  entrada.style.overflowY = alto > 200 ? "auto" : "hidden";
}

function nueva() {
  if (estado.enCurso) return;
  sessionStorage.removeItem("conversacion");
  mostrarVacia();
  cerrarMenu();
  $("entrada").focus();
}

async function detener() {
  if (!estado.enCurso || !estado.conversacion) return;
  $("detener").disabled = true;
  await json("POST", `/api/conversaciones/${estado.conversacion}/detener`).catch(() => null);
}

function ocupado(si) {
  estado.enCurso = si;
  $("enviar").hidden = si;
  $("detener").hidden = !si;
  $("detener").disabled = false;
  document.body.classList.toggle("ocupado", si);
}

async function enviar() {
  const texto = $("entrada").value.trim();
  if (!texto || estado.enCurso) return;
  ocupado(true);
  try {
    if (!estado.conversacion) {
      const nueva = await json("POST", "/api/conversaciones");
      estado.conversacion = nueva.id;
      sessionStorage.setItem("conversacion", nueva.id);
      await cargarLista();
    }
    $("bienvenida").hidden = true;
    $("entrada").value = "";
    ajustarAltura();
    mensaje("usuario", texto);
    bajar();
    const respuesta = await api("POST", `/api/conversaciones/${estado.conversacion}/mensajes`, { texto });
    await leerEventos(respuesta);
  } catch (e) {
    nota("error", e.message);
  } finally {
    cerrarBurbuja();
    ocupado(false);
    $("entrada").focus();
  }
}

async function leerEventos(respuesta) {
  const lector = respuesta.body.getReader();
  const decodificador = new TextDecoder();
  let pendiente = "";
  for (;;) {
    const { value, done } = await lector.read();
    if (done) break;
    pendiente += decodificador.decode(value, { stream: true });
    let corte;
    while ((corte = pendiente.indexOf("\n\n")) >= 0) {
      const bloque = pendiente.slice(0, corte);
      pendiente = pendiente.slice(corte + 2);
      if (bloque.startsWith("data: ")) atender(JSON.parse(bloque.slice(6)));
    }
  }
}

function atender(evento) {
  switch (evento.tipo) {
    case "texto":
      if (!estado.burbuja) { estado.burbuja = mensaje("asistente", ""); estado.burbuja.classList.add("escribiendo"); estado.texto = ""; }
      estado.texto += evento.trozo;
      renderMarkdown(estado.burbuja, estado.texto);
      bajar();
      break;
    case "fin_ronda": cerrarBurbuja(); break;
    case "llamada": cerrarBurbuja(); tarjeta(evento); bajar(); break;
    case "confirmacion": pedirConfirmacion(evento.id); break;
    case "resultado": {
      const nodo = estado.tarjetas.get(String(evento.id));
      if (nodo) actualizarTarjeta(nodo, evento.estado, evento.resumen);
      if (nodo && evento.vista) montarVista(nodo, evento);
      break;
    }
    case "elicitacion": formulario(evento); break;
    case "elicitacion_fin": {
      const form = document.querySelector(`form.formulario[data-id="${CSS.escape(evento.id)}"]`);
      if (form) { form.classList.add("respondido"); form.querySelector(".acciones").replaceChildren(el("span", "sutil", DESENLACES[evento.accion] || evento.accion)); }
      break;
    }
    case "aviso": case "error": cerrarBurbuja(); nota(evento.tipo, evento.mensaje); break;
    case "fin":
      cerrarBurbuja();
      for (const nodo of estado.tarjetas.values()) {
        if (["en_curso", "esperando"].includes(nodo.dataset.estado)) actualizarTarjeta(nodo, "cancelada");
      }
      document.querySelectorAll("form.formulario:not(.respondido)").forEach((f) => f.classList.add("respondido"));
      cargarLista().catch(() => null);
      break;
    default: break;
  }
}

function cerrarBurbuja() {
  if (estado.burbuja) estado.burbuja.classList.remove("escribiendo");
  estado.burbuja = null;
  estado.texto = "";
}

function bajar() {
  const caja = $("mensajes");
  caja.scrollTop = caja.scrollHeight;
}

iniciar();
