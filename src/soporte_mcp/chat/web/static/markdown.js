// A small, safe Markdown renderer: it builds DOM nodes and sets only textContent, so no text
// from the model or from a tool ever becomes HTML.  Links keep only http(s) and mailto targets.
// Supported: paragraphs, # headings, - * and 1. lists, > quotes, ``` code blocks, | tables |,
// **bold**, *italic* / _italic_, `code`, [text](url) and bare line breaks inside paragraphs.
"use strict";

(function () {
  const ENLACE_SEGURO = /^(https?:\/\/|mailto:)/i;

  function el(etiqueta, texto) {
    const nodo = document.createElement(etiqueta);
    if (texto !== undefined) nodo.textContent = texto;
    return nodo;
  }

  // Inline: the first of the patterns that matches earliest wins; the rest of the text is plain.
  const INLINE = [
    { re: /`([^`]+)`/, hacer: (m) => el("code", m[1]) },
    { re: /\*\*([^*]+)\*\*/, hacer: (m) => conHijos("strong", m[1]) },
    { re: /__([^_]+)__/, hacer: (m) => conHijos("strong", m[1]) },
    { re: /\*([^*\s][^*]*)\*/, hacer: (m) => conHijos("em", m[1]) },
    { re: /(^|[^\w])_([^_\s][^_]*)_(?!\w)/, hacer: (m) => conHijos("em", m[2]), previo: (m) => m[1] },
    { re: /\[([^\]]+)\]\(([^)\s]+)\)/, hacer: enlace },
  ];

  function conHijos(etiqueta, texto) {
    const nodo = el(etiqueta);
    inline(nodo, texto);
    return nodo;
  }

  function enlace(m) {
    if (!ENLACE_SEGURO.test(m[2])) return document.createTextNode(m[0]);
    const a = el("a", m[1]);
    a.href = m[2];
    a.rel = "noopener noreferrer nofollow";
    a.target = "_blank";
    return a;
  }

  function inline(padre, texto) {
    while (texto) {
      let mejor = null;
      for (const regla of INLINE) {
        const m = regla.re.exec(texto);
        if (m && (mejor === null || m.index < mejor.m.index)) mejor = { regla, m };
      }
      if (mejor === null) {
        padre.appendChild(document.createTextNode(texto));
        return;
      }
      const { regla, m } = mejor;
      const previo = regla.previo ? regla.previo(m) : "";
      if (m.index + previo.length > 0) padre.appendChild(document.createTextNode(texto.slice(0, m.index) + previo));
      padre.appendChild(regla.hacer(m));
      texto = texto.slice(m.index + m[0].length);
    }
  }

  function lineasConSaltos(padre, lineas) {
    lineas.forEach((linea, i) => {
      if (i > 0) padre.appendChild(el("br"));
      inline(padre, linea);
    });
  }

  function celdas(linea) {
    return linea.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
  }

  const ES_TABLA_SEPARADOR = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;
  const ES_LISTA = /^\s*([-*+]|\d+[.)])\s+/;

  function bloques(lineas, padre) {
    let i = 0;
    while (i < lineas.length) {
      const linea = lineas[i];
      if (!linea.trim()) { i++; continue; }
      const valla = /^\s*(```|~~~)/.exec(linea);
      if (valla) {
        const codigo = [];
        i++;
        while (i < lineas.length && !lineas[i].trim().startsWith(valla[1])) codigo.push(lineas[i++]);
        i++;
        const pre = el("pre");
        pre.appendChild(el("code", codigo.join("\n")));
        padre.appendChild(pre);
        continue;
      }
      const titulo = /^(#{1,6})\s+(.*)$/.exec(linea);
      if (titulo) {
        padre.appendChild(conHijos("h" + Math.min(titulo[1].length + 2, 6), titulo[2].replace(/\s#+\s*$/, "")));
        i++;
        continue;
      }
      if (linea.includes("|") && i + 1 < lineas.length && ES_TABLA_SEPARADOR.test(lineas[i + 1])) {
        const tabla = el("table");
        const cabeza = el("thead").appendChild(el("tr"));
        celdas(linea).forEach((c) => cabeza.appendChild(conHijos("th", c)));
        tabla.appendChild(cabeza.parentNode);
        const cuerpo = el("tbody");
        i += 2;
        while (i < lineas.length && lineas[i].includes("|") && lineas[i].trim()) {
          const fila = el("tr");
          celdas(lineas[i++]).forEach((c) => fila.appendChild(conHijos("td", c)));
          cuerpo.appendChild(fila);
        }
        tabla.appendChild(cuerpo);
        const envoltura = el("div");
        envoltura.className = "tabla";
        envoltura.appendChild(tabla);
        padre.appendChild(envoltura);
        continue;
      }
      if (/^\s*>/.test(linea)) {
        const cita = [];
        while (i < lineas.length && /^\s*>/.test(lineas[i])) cita.push(lineas[i++].replace(/^\s*>\s?/, ""));
        const nodo = el("blockquote");
        bloques(cita, nodo);
        padre.appendChild(nodo);
        continue;
      }
      if (ES_LISTA.test(linea)) {
        const ordenada = /^\s*\d/.test(linea);
        const lista = el(ordenada ? "ol" : "ul");
        while (i < lineas.length && ES_LISTA.test(lineas[i])) {
          const item = el("li");
          const partes = [lineas[i++].replace(ES_LISTA, "")];
          while (i < lineas.length && /^\s{2,}\S/.test(lineas[i]) && !ES_LISTA.test(lineas[i])) {
            partes.push(lineas[i++].trim());
          }
          lineasConSaltos(item, partes);
          lista.appendChild(item);
        }
        padre.appendChild(lista);
        continue;
      }
      const parrafo = [];
      while (i < lineas.length && lineas[i].trim() && !/^\s*(```|~~~|#{1,6}\s|>)/.test(lineas[i]) &&
             !ES_LISTA.test(lineas[i])) {
        parrafo.push(lineas[i++]);
      }
      const p = el("p");
      lineasConSaltos(p, parrafo);
      padre.appendChild(p);
    }
  }

  // Replaces the children of `destino` with `texto` rendered.
  window.renderMarkdown = function (destino, texto) {
    const fragmento = document.createDocumentFragment();
    bloques(String(texto).replace(/\r\n?/g, "\n").split("\n"), fragmento);
    destino.replaceChildren(fragmento);
  };
})();
