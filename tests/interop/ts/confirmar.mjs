// The TypeScript SDK's client (npm @modelcontextprotocol/sdk) answers the server's confirmation form.
// Driven by tests/interop/test_confirmacion_interop.py: one JSON argument
//   {"sdk": DIR, "stdio": {"command", "args", "env"}} or {"sdk": DIR, "url": URL}
//   plus "accion" (accept | decline | cancel) and "llamadas": [[tool, arguments], ...];
// prints one JSON line: {"preguntas": [elicitation params...], "resultados": [CallToolResult...]}.
const opciones = JSON.parse(process.argv[2]);
const base = `${opciones.sdk}/node_modules/@modelcontextprotocol/sdk/dist/esm`;
const { Client } = await import(`${base}/client/index.js`);
const { StdioClientTransport } = await import(`${base}/client/stdio.js`);
const { StreamableHTTPClientTransport } = await import(`${base}/client/streamableHttp.js`);
const { ElicitRequestSchema } = await import(`${base}/types.js`);

const preguntas = [];
const cliente = new Client({ name: "ts-sdk-prueba", version: "1.0.0" }, { capabilities: { elicitation: { form: {} } } });
cliente.setRequestHandler(ElicitRequestSchema, async (peticion) => {
  preguntas.push(peticion.params);
  return opciones.accion === "accept" ? { action: "accept", content: { confirmar: true } } : { action: opciones.accion };
});
const transporte = opciones.url
  ? new StreamableHTTPClientTransport(new URL(opciones.url))
  : new StdioClientTransport(opciones.stdio);
await cliente.connect(transporte);
const resultados = [];
for (const [nombre, argumentos] of opciones.llamadas) {
  resultados.push(await cliente.callTool({ name: nombre, arguments: argumentos }));
}
console.log(JSON.stringify({ preguntas, resultados, protocolo: transporte.protocolVersion ?? null }));
await cliente.close();
