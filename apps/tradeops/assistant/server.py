"""Assemble the MCP server: tools, resources and prompts over one desk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, GetPromptResult, InputRequiredResult, ToolAnnotations

from tradeops import __version__
from tradeops.assistant.desk import AssistantDesk
from tradeops.assistant.reads import ReadTools
from tradeops.assistant.resources import add_completions, add_prompts, add_resources
from tradeops.assistant.writes import WriteTools

NAME = "tradeops"
INSTRUCTIONS = (
    "The tradeops trading desk. Reads: list_strategies, run_backtest, run_sweep, gate, get_run, compare_runs, "
    "list_releases, trader_status, list_backups, list_datasets. Writes (the stack's MCP writers only, audited): "
    "propose_parameters opens a pull request (nothing running changes until it is reviewed and merged); "
    "halt, reduce_only and resume work the kill switch and need a reason. Resources: tradeops://index."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
RUNS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True)


class DeskServer(MCPServer):
    """The SDK's server, answering a `prompts/get` it cannot render as invalid params (JSON-RPC -32602)."""

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Context[Any, Any] | None = None
    ) -> GetPromptResult | InputRequiredResult:
        try:
            return await super().get_prompt(name, arguments, context)
        except ValueError as error:  # an unknown prompt, a missing or invalid argument (the SDK says which)
            raise MCPError(code=INVALID_PARAMS, message=str(error)) from None


def build_server(desk: AssistantDesk, *, stdio_principal: str | None) -> MCPServer:
    """The server; over stdio every call is `stdio_principal`, over HTTP the principal comes with the request."""
    server: MCPServer = DeskServer(NAME, title="tradeops desk", version=__version__, instructions=INSTRUCTIONS)
    reads, writes = ReadTools(desk, stdio_principal), WriteTools(desk, stdio_principal)
    tools: list[tuple[Callable[..., Any], ToolAnnotations]] = [
        (reads.list_strategies, READ_ONLY),
        (reads.get_run, READ_ONLY),
        (reads.compare_runs, READ_ONLY),
        (reads.list_releases, READ_ONLY),
        (reads.trader_status, READ_ONLY),
        (reads.list_backups, READ_ONLY),
        (reads.list_datasets, READ_ONLY),
        (reads.run_backtest, RUNS),  # they create runs; nothing running changes
        (reads.run_sweep, RUNS),
        (reads.gate, RUNS),
        (writes.propose_parameters, WRITE),
        (writes.halt, WRITE),
        (writes.reduce_only, WRITE),
        (writes.resume, WRITE),
    ]
    for tool, hints in tools:
        server.add_tool(tool, annotations=hints)
    add_resources(server, desk)
    add_prompts(server)
    add_completions(server, desk)
    return server
