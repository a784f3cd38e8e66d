// A minimal MCP Apps host for the browser test of our views, built on the real ext-apps AppBridge.
// Bundled by `make vistas-anfitrion` (esbuild, from npm) into .tools/ext-apps/anfitrion.js; the test
// runs it in a page served by our own server, so that /mcp is same-origin.
//
// window.abrirVista({herramienta, argumentos, tema}) connects an MCP client that declares the
// Apps extension, finds the tool's ui:// view in tools/list, reads it, renders it in a sandboxed
// iframe (scripts only: no same-origin, so the view cannot touch this page), connects an
// AppBridge to it, and on `initialized` sends the tool's input and then the result of calling
// the tool. Calls the view makes (tools/call) go through the bridge to the server.
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

const EXTENSION = "io.modelcontextprotocol/ui";
const MIME = "text/html;profile=mcp-app";

window.registro = [];  // what the bridge saw, for the test to read

// `resultado`, when given, is sent to the view instead of the tool's own answer: a later shape of it.
window.abrirVista = async ({ herramienta, argumentos, tema, resultado: otro }) => {
  document.documentElement.style.colorScheme = tema;
  document.body.replaceChildren();
  document.body.style.cssText = `margin:0;padding:24px;background:${tema === "dark" ? "#0d0f12" : "#e9ecef"}`;

  const client = new Client(
    { name: "anfitrion-de-prueba", version: "1.0.0" },
    { capabilities: { extensions: { [EXTENSION]: { mimeTypes: [MIME] } } } },
  );
  await client.connect(new StreamableHTTPClientTransport(new URL("/mcp", location.href)));
  const { tools } = await client.listTools();
  const tool = tools.find((t) => t.name === herramienta);
  const uri = tool && tool._meta && tool._meta.ui && tool._meta.ui.resourceUri;
  if (!uri) throw new Error(`${herramienta} no declara _meta.ui.resourceUri`);
  const { contents } = await client.readResource({ uri });
  if (contents[0].mimeType !== MIME) throw new Error(`MIME inesperado: ${contents[0].mimeType}`);

  const iframe = document.createElement("iframe");
  iframe.id = "vista";
  iframe.title = uri;
  // allow-modals only so that an alert() injected through data would show up as a browser dialog.
  iframe.setAttribute("sandbox", "allow-scripts allow-forms allow-modals");
  iframe.style.cssText = `display:block;width:640px;height:200px;border:1px solid ${tema === "dark" ? "#333" : "#ccc"};border-radius:12px;`
    + `background:${tema === "dark" ? "#16191d" : "#fff"}`;
  document.body.append(iframe);

  const bridge = new AppBridge(
    client,
    { name: "anfitrion-de-prueba", version: "1.0.0" },
    { serverTools: {}, openLinks: {}, logging: {} },
    { hostContext: { theme: tema, locale: "es-EC", timeZone: "America/Guayaquil", displayMode: "inline",
      platform: "web", toolInfo: { tool } } },
  );
  bridge.onsizechange = ({ height }) => {
    if (height) iframe.style.height = `${height + 2}px`;
  };
  const listo = new Promise((resolve) => { bridge.oninitialized = resolve; });
  // The iframe's WindowProxy outlives the srcdoc navigation: the transport is bound before the view loads.
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  iframe.srcdoc = contents[0].text;
  await listo;
  window.registro.push("initialized");
  await bridge.sendToolInput({ arguments: argumentos });
  const resultado = otro || await client.callTool({ name: herramienta, arguments: argumentos });
  await bridge.sendToolResult(resultado);
  window.registro.push("tool-result");
  return "ok";
};
