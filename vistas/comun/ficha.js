// The customer card: what consultarSaldo returns, and the two actions that go through the host.
const Ficha = (() => {
  const METODOS = { efectivo: "Efectivo", tarjeta: "Tarjeta", transferencia: "Transferencia", cheque: "Cheque" };
  let datos = null;
  let clavePago = null;  // one idempotency key per payment being entered: a retry never pays twice

  const $ = (id) => document.getElementById(id);

  function clave() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    return "vista-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function mostrar(saldo) {
    datos = structuredClone(saldo);
    cerrarFormularios();
    texto("ficha-aviso", "");
    pintar();
    $("ficha").hidden = false;
  }

  function pintar() {
    const c = datos.cliente;
    texto("ficha-nombre", c.nombre);
    const estado = $("ficha-estado");
    estado.textContent = c.activo ? "Activo" : "Dado de baja";
    estado.className = "insignia " + (c.activo ? "activo" : "inactivo");
    texto("ficha-id", c.id);
    texto("ficha-email", c.email);
    texto("ficha-telefono", c.telefono || "—");
    texto("ficha-registro", fecha(c.fecha_registro));
    texto("ficha-saldo", datos.saldo);
    const r = datos.resumen || {};
    const anulado = r.anulaciones_total ? ` · Anulado: ${r.total_anulado} (${r.anulaciones_total})` : "";
    texto("ficha-resumen", `Tickets abiertos: ${r.tickets_abiertos} de ${r.tickets_total} · Pagos: ${r.pagos_total}`
      + ` · Último pago: ${fecha(r.fecha_ultimo_pago)}${anulado}`);
    for (const id of ["nuevo-ticket", "registrar-pago"]) {
      $(id).disabled = !c.activo;
      $(id).title = c.activo ? "" : "El cliente está dado de baja";
    }
    pintarPagos();
    pintarAnulaciones();
  }

  function pintarPagos() {
    const pagos = datos.ultimos_pagos || [];
    $("ficha-pagos").replaceChildren(...pagos.map((p) => el("tr", {},
      el("td", { clase: "fecha", texto: fecha(p.fecha, true) }),
      el("td", {}, p.descripcion || "—", ...anulacionesDe(p)),
      el("td", { texto: METODOS[p.metodo_pago] || p.metodo_pago }),
      el("td", { clase: "monto", texto: p.monto }))));
    $("ficha-sin-pagos").hidden = pagos.length > 0;
  }

  // A payment that lists its own reversals (as listarPagos does) shows them next to it.
  function anulacionesDe(pago) {
    const lista = Array.isArray(pago.anulaciones) ? pago.anulaciones : [];
    return lista.map((a) => el("span", { clase: "secundario", texto: ` (anulado: ${a.monto})` }));
  }

  // Reversals come with issue 9's consultarSaldo as movements of type "anulacion" (or as a list of their own).
  function anulaciones() {
    if (Array.isArray(datos.anulaciones)) return datos.anulaciones;
    const movimientos = Array.isArray(datos.ultimos_movimientos) ? datos.ultimos_movimientos : [];
    return movimientos.filter((m) => m.tipo === "anulacion")
      .map((m) => ({ fecha: m.fecha, pago_id: m.pago_id, motivo: m.descripcion, monto: m.monto }));
  }

  function pintarAnulaciones() {
    const lista = anulaciones();
    $("ficha-anulaciones-filas").replaceChildren(...lista.map((a) => el("tr", {},
      el("td", { clase: "fecha", texto: fecha(a.fecha, true) }),
      el("td", { texto: a.pago_id != null ? "Pago " + a.pago_id : "—" }),
      el("td", { texto: a.motivo || "—" }),
      el("td", { clase: "monto", texto: a.monto }))));
    $("ficha-anulaciones").hidden = lista.length === 0;
  }

  function abrir(formulario, boton) {
    const abierto = !$(formulario).hidden;
    cerrarFormularios();
    if (abierto) return;
    $(formulario).hidden = false;
    $(boton).setAttribute("aria-expanded", "true");
    if (formulario === "form-pago") clavePago = clave();
    $(formulario).querySelector("input, textarea").focus();
  }

  function cerrarFormularios() {
    for (const [f, b] of [["form-ticket", "nuevo-ticket"], ["form-pago", "registrar-pago"]]) {
      $(f).hidden = true;
      $(f).reset();
      $(b).setAttribute("aria-expanded", "false");
    }
    texto("ticket-error", "");
    texto("pago-error", "");
  }

  async function enviarFormulario(boton, error, herramienta, argumentos, alTerminar, alRechazo) {
    if ($(boton).disabled) return;
    $(boton).disabled = true;
    texto(error, "");
    try {
      const resultado = await Puente.llamar(herramienta, argumentos);
      if (resultado.isError) {  // refused by the server: nothing was written
        texto(error, textoDeError(resultado));
        const campo = $(error).closest("form").querySelector("input, textarea");
        if (campo) campo.focus();
        if (alRechazo) alRechazo();
        return;
      }
      alTerminar(datosDe(resultado));
    } catch (e) {
      texto(error, "No se pudo completar: " + e.message);
    } finally {
      $(boton).disabled = false;
    }
  }

  function crearTicket(evento) {
    evento.preventDefault();
    const titulo = $("ticket-titulo").value.trim();
    const descripcion = $("ticket-descripcion").value.trim();
    if (!titulo || !descripcion) {
      texto("ticket-error", "Escriba el título y la descripción del problema.");
      $(titulo ? "ticket-descripcion" : "ticket-titulo").focus();
      return;
    }
    const args = { clienteId: datos.cliente.id, titulo, descripcion, prioridad: $("ticket-prioridad").value };
    enviarFormulario("ticket-crear", "ticket-error", "crearTicket", args, (t) => {
      datos.resumen.tickets_total += 1;
      datos.resumen.tickets_abiertos += 1;
      cerrarFormularios();
      pintar();
      texto("ficha-aviso", `Ticket ${t.numero} creado: ${t.titulo}`);
      $("nuevo-ticket").focus();
    });
  }

  function registrarPago(evento) {
    evento.preventDefault();
    // The amount's rules (limits, decimals, "$500") are the server's, said once there: here only "not blank".
    const monto = $("pago-monto").value.trim();
    if (!monto) {
      texto("pago-error", "Escriba el monto del pago, por ejemplo 150.50.");
      $("pago-monto").focus();
      return;
    }
    const args = { clienteId: datos.cliente.id, monto, metodoPago: $("pago-metodo").value,
      idempotencyKey: clavePago };
    const descripcion = $("pago-descripcion").value.trim();
    if (descripcion) args.descripcion = descripcion;
    enviarFormulario("pago-registrar", "pago-error", "registrarPago", args, (p) => {
      datos.saldo = p.saldo_nuevo;
      datos.cliente.saldo = p.saldo_nuevo;
      if (!p.repetido) {
        datos.ultimos_pagos = [{ id: p.pago_id, monto: p.monto, metodo_pago: p.metodo_pago,
          descripcion: p.descripcion, fecha: p.fecha }, ...(datos.ultimos_pagos || [])].slice(0, 5);
        datos.resumen.pagos_total += 1;
        datos.resumen.fecha_ultimo_pago = p.fecha;
      }
      cerrarFormularios();
      pintar();
      texto("ficha-aviso", p.repetido ? `Ese pago ya estaba registrado; el saldo sigue en ${p.saldo_nuevo}.`
        : `Pago de ${p.monto} registrado. Saldo anterior ${p.saldo_anterior}, saldo nuevo ${p.saldo_nuevo}.`);
      $("registrar-pago").focus();
    }, () => { clavePago = clave(); });
  }

  function preparar() {
    $("nuevo-ticket").addEventListener("click", () => abrir("form-ticket", "nuevo-ticket"));
    $("registrar-pago").addEventListener("click", () => abrir("form-pago", "registrar-pago"));
    $("form-ticket").addEventListener("submit", crearTicket);
    $("form-pago").addEventListener("submit", registrarPago);
    // Closing a form (Cancelar or Esc) gives the focus back to the button that opened it.
    const cerrarDesde = (formulario) => {
      cerrarFormularios();
      $(formulario.id === "form-pago" ? "registrar-pago" : "nuevo-ticket").focus();
    };
    for (const b of document.querySelectorAll("#ficha .cancelar")) {
      b.addEventListener("click", () => cerrarDesde(b.closest("form")));
    }
    $("ficha").addEventListener("keydown", (e) => {
      const formulario = e.target.closest && e.target.closest("form");
      if (e.key === "Escape" && formulario) cerrarDesde(formulario);
    });
  }

  return { mostrar, preparar };
})();
