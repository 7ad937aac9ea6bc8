"""Scratch files named after their owner, and the reclaiming of those whose owner is gone.

A process killed with SIGKILL removes nothing, so every scratch file or folder tradeops makes carries
its owner in its name: `<prefix><host>-<pid>-<start>-<random>`, where `host` is a short hash of the
host name and boot, `pid` the owning process and `start` that process's start time (clock ticks
since boot, from /proc), so a pid reused by another process does not look like the owner. A
leftover is reclaimed (by the next command that makes the same kind of scratch, and by `tradeops
cleanup`) once its owner is provably gone: same host, and no process with that pid and start time.
A name made on another host, or by an older version without an owner, cannot be checked: it goes
once it is older than GRACE.

Where scratch lives, and so where reclaiming looks:
  $TMPDIR/tradeops-scratch/   the database copy a SQLite backup streams from, the scratch database of a verify
  beside a SQLite database    `.restore-*`, the restored image before it is renamed over the database
  the folder object store     `.partial-*`, an object being written (backups, dataset parts, reports)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

GRACE = timedelta(hours=6)  # how long a scratch name whose owner cannot be checked stays
ROOT_NAME = "tradeops-scratch"
LEGACY_TEMP_PREFIXES = ("tradeops-dump-", "tradeops-scratch-")  # what older versions left in $TMPDIR itself
_OWNER = re.compile(r"(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-(?P<start>\d+)-")


@dataclass(frozen=True)
class Leftover:
    """A scratch file or folder that was reclaimed: where, how many bytes, and why it could go."""

    path: str
    bytes: int
    why: str


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot; None when it does not exist (0 off Linux)."""
    if sys.platform != "linux":
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return 0
        return 0
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _host() -> str:
    boot = ""
    with contextlib.suppress(OSError):
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return hashlib.sha256(f"{socket.gethostname()}|{boot}".encode()).hexdigest()[:8]


def owner() -> str:
    """This process as scratch names carry it: `<host>-<pid>-<start>`."""
    pid = os.getpid()
    return f"{_host()}-{pid}-{_start_time(pid) or 0}"


def scratch_name(prefix: str) -> str:
    """A fresh name for a scratch file or folder owned by this process."""
    return f"{prefix}{owner()}-{secrets.token_hex(4)}"


def scratch_root() -> Path:
    """The folder scratch copies live in: `tradeops-scratch` in the temporary folder ($TMPDIR)."""
    return Path(tempfile.gettempdir()) / ROOT_NAME


@contextlib.contextmanager
def scratch_folder(kind: str) -> Iterator[Path]:
    """A folder of this process's own under the scratch root, removed when the block ends."""
    folder = scratch_root() / scratch_name(f"{kind}-")
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def stale_because(name: str, modified: float, now: float | None = None) -> str | None:
    """Why a scratch name may go (its owner is gone, or it is old and unowned); None while it must stay."""
    found = _OWNER.search(name)
    if found and found["host"] == _host():
        start = _start_time(int(found["pid"]))
        if start is None or (start and start != int(found["start"])):
            return f"its owner, process {found['pid']}, is gone"
        return None
    age = (now or time.time()) - modified
    if age > GRACE.total_seconds():
        whose = "made on another host" if found else "its owner is not recorded"
        return f"{whose}, and it is {age / 3600:.0f} h old"
    return None


def _size(path: Path) -> int:
    if path.is_dir() and not path.is_symlink():
        return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return path.lstat().st_size


def reclaim(candidates: Iterable[Path], *, dry_run: bool = False) -> list[Leftover]:
    """Remove the candidates whose owner is gone (or, unowned, past GRACE); return what went."""
    gone = []
    for path in candidates:
        try:
            why = stale_because(path.name, path.lstat().st_mtime)
            if why is None:
                continue
            size = _size(path)
            if not dry_run:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        except FileNotFoundError:
            continue  # its owner finished and removed it meanwhile
        gone.append(Leftover(str(path), size, why))
    return gone


def reclaim_temporary(*, dry_run: bool = False) -> list[Leftover]:
    """Reclaim the scratch root, and what older versions left in the temporary folder itself."""
    root = scratch_root()
    temporary = root.parent
    found = list(root.iterdir()) if root.is_dir() else []
    with contextlib.suppress(OSError):
        found += [p for p in temporary.iterdir() if p.name.startswith(LEGACY_TEMP_PREFIXES)]
    return reclaim(found, dry_run=dry_run)


def reclaim_beside(target: Path, prefix: str, *, dry_run: bool = False) -> list[Leftover]:
    """Reclaim `prefix*` files in the folder of `target` (e.g. `.restore-*` beside a SQLite database)."""
    if not target.parent.is_dir():
        return []
    return reclaim([p for p in target.parent.iterdir() if p.name.startswith(prefix)], dry_run=dry_run)
