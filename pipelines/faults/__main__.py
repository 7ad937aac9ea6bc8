"""Run the fault-injection scenarios, print one table, write the results as JSON.

    python -m pipelines.faults [--out reports/faults.json] [--only NAME] [--list]

Exit code 0 when every scenario passed, 1 when one failed, 2 on bad arguments or when nothing matched.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines.faults import collect, discover, run_one, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reports/faults.json"), help="where the JSON goes")
    parser.add_argument("--only", action="append", default=[], help="run scenarios whose module or name has this")
    parser.add_argument("--list", action="store_true", help="list the scenarios, run nothing")
    args = parser.parse_args(argv)
    chosen = [
        (module, scenario)
        for module, scenario in collect(discover())
        if not args.only or any(part in f"{module}.{scenario.__name__}" for part in args.only)
    ]
    if not chosen:
        print(f"no scenario matches {args.only}", file=sys.stderr)
        return 2
    if args.list:
        print("\n".join(f"{module}.{scenario.__name__}" for module, scenario in chosen))
        return 0
    results = []
    for module, scenario in chosen:
        print(f"running {module}.{scenario.__name__} ...", file=sys.stderr, flush=True)
        results.append(run_one(module, scenario))
    print(table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
