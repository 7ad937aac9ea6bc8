"""`tradeops backtest merge` and the --shard/--workers options `backtest sweep|walkforward` share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from tradeops.cli.options import emit_json
from tradeops.errors import ConfigError
from tradeops.sweeps.spec import SweepSpec, parse_shard

ShardOpt = Annotated[
    str | None, typer.Option("--shard", help="run only shard I of N (I from 0), e.g. 0/4; write the part to --out")
]
Workers = Annotated[int, typer.Option("--workers", min=1, help="run as N shards in N worker processes, then merge")]
stderr = Console(stderr=True, soft_wrap=True, highlight=False, markup=False, emoji=False)


def write_shard(spec: SweepSpec, shard_text: str, out: Path | None, as_json: bool) -> None:
    """Compute one shard of `spec` and write its part (Parquet with the manifest) to `out`."""
    from tradeops.sweeps.parts import part_to_bytes, run_part

    shard, shards = parse_shard(shard_text)
    if out is None or out.suffix != ".parquet":
        raise ConfigError("--shard needs --out PART.parquet (the part file)")
    part = run_part(spec, shard, shards)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_bytes(part_to_bytes(part))
    partial.replace(out)  # a part appears whole or not at all
    summary = {
        "sweep": part.manifest.sweep,
        "shard": shard,
        "shards": shards,
        "items": list(part.manifest.items),
        "rows": len(part.table),
        "part": str(out),
    }
    if as_json:
        emit_json(summary)
    else:
        stderr.print(f"shard {shard}/{shards} of sweep {part.manifest.sweep}: {len(part.table)} row(s) -> {out}")


def read_parts(files: list[Path]) -> list[tuple[str, Any]]:
    """Read part files; a ConfigError names one that is missing or not a part."""
    from tradeops.sweeps.parts import part_from_bytes

    parts = []
    for file in files:
        if not file.is_file():
            raise ConfigError(f"{file}: no such part file")
        parts.append((file.name, part_from_bytes(file.name, file.read_bytes())))
    return parts


def merge(
    parts: Annotated[list[Path], typer.Argument(help="the part files of one sweep (every shard once)")],
    out: Annotated[Path, typer.Option("--out", help="the merged table (.csv/.json/.parquet; walk-forward: .json)")],
    report: Annotated[Path | None, typer.Option("--report", help="write what was merged (JSON) here")] = None,
) -> None:
    """Check that parts are one sweep's every shard exactly once; write the table the unsharded run writes."""
    from tradeops.sweeps.local import walkforward_payload, write_table
    from tradeops.sweeps.parts import merge_parts, merge_report

    given = read_parts(parts)
    merged = merge_parts(given)
    if merged.manifest.spec.kind == "walkforward":
        if out.suffix != ".json":
            raise ConfigError(f"--out {out}: a walk-forward merges into a .json file")
        emit_json(walkforward_payload(merged), out)
    else:
        write_table(merged.table, out)
    if report is not None:
        emit_json(merge_report(given, merged), report)
    stderr.print(f"merged {len(given)} part(s) of sweep {merged.manifest.sweep}: {len(merged.table)} row(s) -> {out}")
