"""The write tools: propose parameters as a pull request, and the kill switch (halt, reduce-only, resume).

Each is allowed only to the principals in the stack's MCP writers list; every attempt is audited with
the principal (`mcp:<principal>`), refused ones as `denied` with the reason in the answer. A proposal
goes through the Slack app's path (validate against the strategy's schema, gate, branch, PR), never
a direct edit of anything running.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context
from pydantic import Field

from tradeops.assistant.guard import Guarded, tool_errors
from tradeops.assistant.results import ProposalResult, PullRequestRef
from tradeops.errors import ConfigError
from tradeops.gate.candidate import HAND_WRITTEN, Provenance
from tradeops.trader import killswitch
from tradeops.trader.control import COMMANDS, TraderStatus
from tradeops.vcs.proposals import propose_audited
from tradeops.vcs.stackfile import stack_file

Reason = Annotated[str, Field(min_length=1, max_length=500, description="why (kept in the audit log)")]
Session = Annotated[str, Field(min_length=1, max_length=128, description="trading session (default: the active one)")]


class WriteTools(Guarded):
    """Tools only the stack's writers may call."""

    @tool_errors
    async def propose_parameters(
        self,
        stack: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$", description="dev, staging or prod")],
        params: Annotated[
            dict[str, Any],
            Field(min_length=1, description="parameters to change", examples=[{"fast": 12, "slow": 40}]),
        ],
        ctx: Context,
        open_pr: Annotated[bool, Field(description="commit on a new branch and open a pull request")] = True,
        provenance: Annotated[
            Provenance | None,
            Field(
                description="how the parameters were found: the `candidate.provenance` a sweep or study printed;"
                " omitted: by hand, one trial"
            ),
        ] = None,
    ) -> ProposalResult:
        """Validate new parameters against the strategy's schema, run the gate, and open a pull request.

        The gate deflates the Sharpe ratio for the trials the provenance records, and the PR states it."""
        stack_file(stack)
        principal = self.caller(ctx)
        actor = f"mcp:{principal}"
        await anyio.to_thread.run_sync(
            self.desk.check_writer, principal, "mcp.propose", stack, {"params": params, "pr": open_pr}
        )
        await ctx.report_progress(0, 2, f"validating and gating the {stack} candidate")
        proposal = await anyio.to_thread.run_sync(
            lambda: propose_audited(
                self.desk.proposer,
                self.desk.audit,
                action="mcp.propose",
                actor=actor,
                stack=stack,
                overrides=params,
                open_pr=open_pr,
                provenance=provenance or HAND_WRITTEN,
            )
        )
        await ctx.report_progress(2, 2, "pull request opened" if proposal.pull_request else "gated")
        pull = proposal.pull_request
        return ProposalResult(
            stack=stack,
            strategy=proposal.strategy,
            before=proposal.before,
            after=proposal.after,
            verdict=proposal.verdict.to_dict() | {"result": None},
            branch=proposal.branch,
            commit=proposal.commit,
            pull_request=PullRequestRef(number=pull.number, url=pull.url, head=pull.head, base=pull.base)
            if pull
            else None,
        )

    async def _switch(self, ctx: Context, verb: str, reason: str, session: str | None) -> TraderStatus:
        principal = self.caller(ctx)
        actor, action = f"mcp:{principal}", f"mcp.{verb}"
        detail: dict[str, object] = {"reason": reason, "session": session}
        await anyio.to_thread.run_sync(self.desk.check_writer, principal, action, "trader", detail)
        try:
            status = await anyio.to_thread.run_sync(
                lambda: self._apply(verb, actor=actor, reason=reason, session=session)
            )  # audited as trader.<state> in the same transaction
        except Exception as error:
            self.desk.audit.record(
                actor=actor, action=action, target="trader", outcome="failed", detail=detail | {"error": str(error)}
            )
            if isinstance(error, ConfigError):
                raise
            raise ConfigError(f"{verb} failed: {type(error).__name__}: {error}") from None
        self.desk.audit.record(
            actor=actor, action=action, target=status.session, outcome="applied", detail=detail | {"to": status.state}
        )
        return status

    def _apply(self, verb: str, *, actor: str, reason: str, session: str | None) -> TraderStatus:
        if verb == "halt":  # on a venue, the trader service also cancels its open orders (trader/killswitch.py)
            settings = self.desk.settings
            return killswitch.halt(
                settings,
                self.desk.control,
                actor=actor,
                reason=reason,
                session_id=session,
                trader_url=settings.trader_url,
            )
        return self.desk.control.set_state(COMMANDS[verb], actor=actor, reason=reason, session_id=session)

    @tool_errors
    async def halt(self, reason: Reason, ctx: Context, session: Session | None = None) -> TraderStatus:
        """Stop trading: no new orders from the next bar on (the kill switch); on a venue, cancel its open orders
        too (`venue` says what was cancelled and what could not be)."""
        return await self._switch(ctx, "halt", reason, session)

    @tool_errors
    async def reduce_only(self, reason: Reason, ctx: Context, session: Session | None = None) -> TraderStatus:
        """Only close positions, open none, from the next bar on."""
        return await self._switch(ctx, "reduce-only", reason, session)

    @tool_errors
    async def resume(self, reason: Reason, ctx: Context, session: Session | None = None) -> TraderStatus:
        """Trade normally again (drawdown and daily loss count from the current equity)."""
        return await self._switch(ctx, "resume", reason, session)
