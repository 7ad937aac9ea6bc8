"""Which stacks a change touches: changed stack files get the gate; a program change previews every stack."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.git import ROOT, git
from pipelines.infra.evaluate import stack_names

STACK_FILE = re.compile(r"^infra/stacks/Pulumi\.(?P<stack>[a-z0-9-]+)\.yaml$")
PROGRAM = ("infra/", "apps/", "charts/", "Pulumi.yaml", "pyproject.toml")


def changed_files(base: str, cwd: Path = ROOT) -> list[str]:
    """Files that differ between the merge base with `base` and the working tree (commits and edits)."""
    listing = git("diff", "--name-only", git("merge-base", base, "HEAD", cwd=cwd), cwd=cwd)
    return sorted(line for line in listing.splitlines() if line)


def changed_stacks(files: list[str]) -> list[str]:
    """Stacks whose config file changed (and still exists)."""
    known = set(stack_names())
    return sorted({m["stack"] for f in files if (m := STACK_FILE.match(f)) and m["stack"] in known})


def affected_stacks(files: list[str]) -> list[str]:
    """Stacks a `pulumi preview` must cover: all of them when the program, the image or the charts changed."""
    program = [f for f in files if f.startswith(PROGRAM) and not STACK_FILE.match(f)]
    return stack_names() if program else changed_stacks(files)
