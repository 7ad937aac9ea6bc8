"""`tradeops mcp stdio`: the MCP server on stdin/stdout for a local assistant (`tradeops serve mcp` is HTTP)."""

from __future__ import annotations

import typer

from tradeops.settings import load_settings

app = typer.Typer(help="The Model Context Protocol server for AI assistants.", no_args_is_help=True)


@app.command("stdio")
def stdio() -> None:
    """Serve MCP over stdin/stdout; every call acts as TRADEOPS_MCP_PRINCIPAL (writes need TRADEOPS_MCP_WRITERS)."""
    import anyio

    from tradeops.assistant.desk import open_desk
    from tradeops.assistant.server import build_server

    settings = load_settings()
    desk = open_desk(settings)
    server = build_server(desk, stdio_principal=settings.mcp_principal)

    async def serve() -> None:
        try:
            await server.run_stdio_async()  # stdout carries the protocol: nothing else may print there
        finally:
            with anyio.CancelScope(shield=True):
                await desk.close()  # in the loop its clients ran in (closing them in another raised "loop is closed")

    anyio.run(serve)
