"""Rewrite the `tests:` lists of `test_requirements.yaml` from the `req` markers the tests carry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from tradeops.errors import ConfigError
from tradeops.requirements.catalog import load_catalog


def collect_citations(root: Path) -> dict[str, list[str]]:
    """Collect the tests under `root/tests` (pytest --collect-only, in a subprocess); ID -> citing tests."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "cited.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tradeops.requirements.collect",
            f"--requirements-cited-out={out}",
            f"--rootdir={root}",
            "tests",
        ]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, env=env, check=False)  # noqa: S603
        if done.returncode != 0 or not out.exists():
            detail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-12:]
            raise ConfigError("collecting the tests failed:\n" + "\n".join(detail))
        cited: dict[str, list[str]] = json.loads(out.read_text())
        return cited


def drift(catalog_path: Path, cited: dict[str, list[str]]) -> list[str]:
    """Return one line per difference between the catalog's `tests:` lists and the citations."""
    catalog = load_catalog(catalog_path)
    known = {r.id for r in catalog}
    lines = [f"{i}: cited by {', '.join(tests)} but not in the catalog" for i, tests in cited.items() if i not in known]
    for requirement in catalog:
        listed, found = set(requirement.tests), set(cited.get(requirement.id, []))
        lines += [f"{requirement.id}: + {t}" for t in sorted(found - listed)]
        lines += [f"{requirement.id}: - {t}" for t in sorted(listed - found)]
    return lines


def rewrite(catalog_path: Path, cited: dict[str, list[str]]) -> None:
    """Replace every `tests:` list with the citing tests (sorted); a requirement cited by none has none."""
    unknown = sorted(set(cited) - {r.id for r in load_catalog(catalog_path)})
    if unknown:
        raise ConfigError(f"tests cite requirements the catalog lacks: {', '.join(unknown)}")
    data: dict[str, Any] = yaml.safe_load(catalog_path.read_text())
    for entry in data["requirements"]:
        tests = sorted(cited.get(entry["id"], []))
        if tests:
            entry["tests"] = tests
        else:
            entry.pop("tests", None)
    text = yaml.safe_dump(data, sort_keys=False, width=200, allow_unicode=True)
    partial = catalog_path.with_name(catalog_path.name + ".partial")
    partial.write_text(text)
    partial.replace(catalog_path)  # all or nothing: a crash never leaves half a catalog
