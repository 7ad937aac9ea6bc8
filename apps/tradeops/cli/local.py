"""`tradeops local up`: the whole stack on one machine with the embedded defaults."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
import yaml

from tradeops.cli.options import plain_console
from tradeops.settings import load_settings

app = typer.Typer(help="The whole stack on one machine (SQLite, a local folder, console notifications).")
stderr = plain_console(stderr=True)

DEFAULT_CANDIDATE = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}, "data": "sample:GOOG"}


@app.command("up")
def up(
    host: Annotated[str, typer.Option("--host", help="address every service binds")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65000, help="backtester port; the trader gets the next")
    ] = 8000,
    candidate: Annotated[
        Path | None, typer.Option("--candidate", help="candidate YAML the trader trades (default: sma_cross on GOOG)")
    ] = None,
    speed: Annotated[float, typer.Option("--speed", min=0, help="replayed bars per second for the trader")] = 1.0,
) -> None:
    """Run the backtester and the trader (on replayed bars) until Ctrl-C; every service's health on its port."""
    import uvicorn

    from tradeops.service.backtester import create_app as backtester_app
    from tradeops.trader.service import create_app as trader_app

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if candidate is None:
        candidate = settings.data_dir / "candidate.yaml"
        if not candidate.exists():
            candidate.write_text(yaml.safe_dump(DEFAULT_CANDIDATE, sort_keys=False))
    trader_settings = settings.model_copy(update={"trader_candidate": candidate, "trader_replay_speed": speed})
    apps = {"backtester": (backtester_app(settings), port), "trader": (trader_app(trader_settings), port + 1)}
    servers = {
        name: uvicorn.Server(uvicorn.Config(asgi, host=host, port=bound, log_level="warning"))
        for name, (asgi, bound) in apps.items()
    }
    threads = [threading.Thread(target=server.run, name=name, daemon=True) for name, server in servers.items()]
    stop = threading.Event()
    # Ctrl-C and SIGTERM stop everything, also when started in the background by a shell without job control,
    # which hands its child SIGINT ignored (Python then raises no KeyboardInterrupt and `up` ran on forever).
    for stopping in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stopping, lambda *_: stop.set())
    for thread in threads:
        thread.start()
    for name, (_, bound) in apps.items():
        stderr.print(f"{name}: http://{host}:{bound}  (/healthz /readyz /status /metrics)")
    stderr.print(f"dashboard: http://{host}:{port}/ui/  (log in with TRADEOPS_API_TOKEN, any token when unset)")
    stderr.print(f"data: {settings.data_dir.resolve()}  candidate: {candidate}  - Ctrl-C stops everything")
    while not stop.wait(0.5) and all(thread.is_alive() for thread in threads):
        pass
    for server in servers.values():
        server.should_exit = True
    for thread in threads:
        thread.join(60)
    failed = [name for name, server in servers.items() if not server.started]
    if failed:
        stderr.print(f"error: {', '.join(failed)} did not start: see the error above", style="bold red")
        raise typer.Exit(1)
    stderr.print("stopped")
