"""Resources (the map, the diagrams, docs pages, stack configs, the latest verdict per stack) and prompts."""

from __future__ import annotations

import json
from typing import Annotated

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.types import Completion, CompletionArgument, PromptReference, ResourceTemplateReference
from pydantic import Field

from tradeops.assistant.desk import AssistantDesk
from tradeops.assistant.files import DIAGRAMS, SYSTEM_MAP
from tradeops.errors import TradeopsError

INDEX = "tradeops://index"


async def _read(fn: object, *args: object) -> str:
    try:
        return str(await anyio.to_thread.run_sync(fn, *args))  # type: ignore[arg-type]
    except TradeopsError as error:
        raise ResourceError(str(error)) from None


def add_resources(server: MCPServer, desk: AssistantDesk) -> None:
    """Register the resources; each reads only `DeskFiles.readable()` paths or the release store."""
    files = desk.files

    def index() -> str:
        uris = ["tradeops://system-map", "tradeops://diagrams"]
        uris += [f"tradeops://docs/{page}" for page in files.pages()]
        for stack in files.stacks():
            uris += [f"tradeops://stacks/{stack}/config", f"tradeops://stacks/{stack}/verdict"]
        return json.dumps({"resources": uris}, indent=2)

    @server.resource(INDEX, name="index", mime_type="application/json")
    async def resource_index() -> str:
        """Every resource this server can read (docs pages and stacks included)."""
        return await _read(index)

    @server.resource("tradeops://system-map", name="system_map.yaml", mime_type="application/yaml")
    async def system_map() -> str:
        """The generated map of the stack: services, jobs, stores, and their edges."""
        return await _read(files.read, SYSTEM_MAP)

    @server.resource("tradeops://diagrams", name="diagrams", mime_type="text/markdown")
    async def diagrams() -> str:
        """The generated architecture diagrams (Mermaid)."""
        return await _read(files.read, DIAGRAMS)

    @server.resource("tradeops://docs/{page}", name="docs page", mime_type="text/markdown")
    async def docs_page(page: Annotated[str, Field(pattern=r"^[a-z0-9_-]+$")]) -> str:
        """A page of docs/ (e.g. `mcp`, `slack`, `operations`)."""
        return await _read(files.read, f"docs/{page}.md")

    @server.resource("tradeops://stacks/{stack}/config", name="stack config", mime_type="application/json")
    async def stack_config(stack: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")]) -> str:
        """The stack's settings as the base branch holds them; secrets by name only."""
        return await _read(lambda: json.dumps(files.stack_config(stack), indent=2, default=str))

    @server.resource("tradeops://stacks/{stack}/verdict", name="latest verdict", mime_type="application/json")
    async def stack_verdict(stack: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")]) -> str:
        """The newest gate verdict recorded for the stack's deploys."""

        def latest() -> str:
            record = desk.releases.latest_verdict(stack)
            if record is None:
                return json.dumps({"stack": stack, "verdict": None, "note": "no gate verdict recorded yet"})
            return record.model_dump_json(indent=2)

        return await _read(latest)


def add_completions(server: MCPServer, desk: AssistantDesk) -> None:
    """Complete the names an argument takes: stacks (prompts and stack resources) and docs pages."""
    choices = {"stack": desk.files.stacks, "page": desk.files.pages}

    @server.completion()
    async def complete(
        ref: PromptReference | ResourceTemplateReference, argument: CompletionArgument, context: object
    ) -> Completion | None:
        names = choices.get(argument.name)
        if names is None:
            return None  # run ids and free text: nothing to offer
        found = [n for n in await anyio.to_thread.run_sync(names) if n.startswith(argument.value)]
        return Completion(values=found[:100], total=len(found), has_more=len(found) > 100)


def add_prompts(server: MCPServer) -> None:
    """The prompts: review a candidate, explain a verdict."""

    @server.prompt(name="review_candidate", title="Review this candidate")
    def review_candidate(
        stack: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")],
        params: Annotated[str, Field(max_length=500, description="the proposed change, e.g. fast=12 slow=40")] = "",
    ) -> str:
        """Review a stack's candidate (or a proposed change to it) against the gate before proposing it."""
        change = f" with the change `{params}`" if params else ""
        return (
            f"Review the trading candidate of stack `{stack}`{change}.\n"
            f"1. Read the resource tradeops://stacks/{stack}/config (strategy, params, data, thresholds) and "
            f"tradeops://stacks/{stack}/verdict (the last verdict it was deployed on).\n"
            "2. Call `gate` with the candidate (changed as proposed) and `run_backtest` on the same inputs.\n"
            "3. Report every gate check (value, limit, passed), the main metrics (total_return_pct, sharpe, "
            "max_drawdown_pct, profit_factor, trades) against the current candidate, and the risks.\n"
            "4. Recommend: propose (with `propose_parameters`, which opens a pull request) or not, and why. "
            "Never claim a check passed unless the verdict says so."
        )

    @server.prompt(name="explain_verdict", title="Explain this verdict")
    def explain_verdict(
        run_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    ) -> str:
        """Explain a gate verdict check by check, in plain words."""
        return (
            f"Explain the gate verdict of run `{run_id}`.\n"
            f"Call `get_run` with run_id={run_id}. For each check in `verdict.checks`, say what it measures, "
            "its value against its limit and whether it passed; then say why the verdict passed, failed "
            "(exit 1) or could not decide (exit 2), and which parameter changes might move each failed check. "
            "Quote numbers exactly as the run reports them."
        )
