"""soporte-chat: a terminal chat that lets an OpenAI-compatible model use MCP tools.

    cli.py            the ``soporte-chat`` command: options, one-shot or interactive
    interactivo.py    the interactive loop: line editing, /commands, Ctrl-C
    conversacion.py   the history and one turn: model rounds, approvals, tool results
    modelo.py         one streamed Chat Completion, with retries; API errors mapped once
    herramientas.py   MCP tools as OpenAI tools: safe unique names, calls, result text
    servidores.py     which MCP servers (bundled, --server, --config) and their sessions
    salida.py         what the user sees: streamed Markdown or plain text, tool lines, JSON
    errores.py        the chat's branch of the error tree

Registro: usted, en todo lo que lee una persona o un modelo: mensajes, errores, preguntas,
/help y el prompt de sistema (que además pide al modelo tratar de usted al usuario), como
las instrucciones y los errores del servidor.
"""
