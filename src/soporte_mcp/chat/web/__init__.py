"""``soporte-chat web``: the agents' web chat, on the same conversation engine as the terminal chat.

    cli.py        the ``web`` command and ``web cuenta crear|borrar|listar``
    servidor.py   opens the model client and the MCP sessions once, serves with uvicorn
    app.py        the Starlette app: the page, the JSON API, the answer as server-sent events
    turnos.py     one turn: the engine's events for the page, approvals, forms, Detener
    acceso.py     login, the session cookie, CSRF, login throttling
    almacen.py    accounts, sessions and conversations in the chat's own SQLite file
    static/       the page: hand-written HTML, CSS and JS (a Markdown renderer that builds DOM nodes)
"""
