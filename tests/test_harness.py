"""DC-33: the suite's own harness. One numba thread everywhere; servers that another pytest session cannot break.

A pytest session keeps its long-lived servers (PostgreSQL) in a directory of its own under the temporary
directory, not in pytest's basetemp: a second session on the machine prunes old numbered basetemps, and one
given `--basetemp` empties that directory at start. These tests run real inner pytest sessions with the
suite's own fixtures and a real PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

from tests.fakes.servers import fresh_database, server_directory

pytestmark = pytest.mark.req("DC-33")
ROOT = Path(__file__).resolve().parents[1]

HOLDING = """
import json, os, time
from pathlib import Path

def test_hold(postgres_server, servers_dir, tmp_path):
    (tmp_path / "mine.txt").write_text("a file of this session's basetemp")
    info = {"url": postgres_server, "servers_dir": str(servers_dir), "tmp_path": str(tmp_path)}
    partial = Path(os.environ["HOLD_INFO"] + ".partial")  # renamed whole: the waiting side never reads it half written
    partial.write_text(json.dumps(info))
    os.replace(partial, os.environ["HOLD_INFO"])
    deadline = time.monotonic() + 300
    while not Path(os.environ["HOLD_GO"]).exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
"""


def pytest_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]


def session_env(temp: Path, **extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(ROOT / "apps"), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return os.environ | {"TMPDIR": str(temp), "PYTHONPATH": path} | extra


@pytest.fixture
def temp() -> Iterator[Path]:
    """A short temporary directory (a PostgreSQL socket path must stay under ~100 characters)."""
    folder = Path(tempfile.mkdtemp(prefix="dc33-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Held:
    process: subprocess.Popen[str]
    url: str
    servers_dir: Path
    tmp_path: Path


@contextmanager
def holding_session(temp: Path) -> Iterator[Held]:
    """A pytest session (the suite's fixtures, TMPDIR=temp) whose one test holds its PostgreSQL until released."""
    project = temp / "first"
    project.mkdir()
    (project / "conftest.py").write_text('pytest_plugins = ["tests.conftest"]\n')
    (project / "test_hold.py").write_text(textwrap.dedent(HOLDING))
    info, go = temp / "info.json", temp / "go"
    env = session_env(temp, HOLD_INFO=str(info), HOLD_GO=str(go))
    output = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}
    process = subprocess.Popen(pytest_command("test_hold.py"), cwd=project, env=env, **output)
    try:
        deadline = time.monotonic() + 180
        while not info.exists():
            assert process.poll() is None and time.monotonic() < deadline, process.communicate(timeout=30)[0]
            time.sleep(0.1)
        held = json.loads(info.read_text())
        yield Held(process, held["url"], Path(held["servers_dir"]), Path(held["tmp_path"]))
    finally:
        go.touch()
        if process.poll() is None:
            process.communicate(timeout=120)


def answers(url: str) -> int:
    engine = sa.create_engine(fresh_database(url).replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT 1")).scalar_one())
    finally:
        engine.dispose()


def stopped(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE  # exited; its new parent has not reaped it yet
    except psutil.NoSuchProcess:
        return True


def test_dc_33_numba_and_openmp_run_one_thread_in_the_session_and_in_its_subprocesses():
    import numba

    assert numba.config.NUMBA_NUM_THREADS == 1 and numba.get_num_threads() == 1
    probe = "import os, numba; print(numba.get_num_threads(), os.environ['OMP_NUM_THREADS'])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.split() == ["1", "1"]


def test_dc_33_a_second_pytest_session_pruning_and_emptying_the_first_ones_basetemp_leaves_its_postgres_up(temp):
    second = temp / "second"
    second.mkdir()
    (second / "test_other.py").write_text("def test_other(tmp_path):\n    (tmp_path / 'x').write_text('x')\n")
    with holding_session(temp) as first:
        basetemp = first.tmp_path.parent
        assert answers(first.url) == 1 and not first.servers_dir.is_relative_to(basetemp)
        env = session_env(temp)
        for args in ([], ["-o", "tmp_path_retention_count=0"], [f"--basetemp={basetemp}"]):
            # the same temporary root (it prunes the numbered basetemps), keeping none, then the first one's own
            done = subprocess.run(
                pytest_command(*args, "test_other.py"), cwd=second, env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, done.stdout + done.stderr
        assert not first.tmp_path.exists()  # the second session did empty the first one's basetemp
        assert answers(first.url) == 1  # and the first session's server still answers
    output, _ = first.process.communicate(timeout=120)
    assert first.process.returncode == 0, output
    assert not first.servers_dir.exists()  # removed at the end of its session


def test_dc_33_a_folder_left_by_a_killed_session_is_reclaimed_with_its_postgres_stopped(temp):
    with holding_session(temp) as first:
        postmaster = int((first.servers_dir / "pg" / "postmaster.pid").read_text().split()[0])
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(30)
    assert first.servers_dir.exists() and psutil.pid_exists(postmaster)  # kill -9: no teardown ran
    with server_directory(temp / "tradeops-test-servers") as mine:
        assert mine.name.startswith(f"{os.getpid()}-") and mine.exists()
        assert not first.servers_dir.exists()
        assert stopped(postmaster)
    assert not mine.exists()


PER_WORKER = """
import json, os
from pathlib import Path

import sqlalchemy as sa

def test_where(postgres_server, servers_dir, s3_server):
    engine = sa.create_engine(postgres_server.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        answer = connection.execute(sa.text("SELECT 1")).scalar_one()
    engine.dispose()
    info = {"pid": os.getpid(), "url": postgres_server, "s3": s3_server, "servers_dir": str(servers_dir)}
    info["answer"] = answer
    Path(os.environ["WHERE_DIR"], os.environ["PYTEST_XDIST_WORKER"] + ".json").write_text(json.dumps(info))
"""


def test_dc_33_dc_63_each_xdist_worker_runs_its_own_servers_in_a_folder_of_its_own(temp):
    """Under `-n 2` session fixtures run once per worker: two PostgreSQL servers and two moto servers, each in
    (or beside) a folder named after its worker's pid, and both folders are gone when the session ends."""
    project, where = temp / "workers", temp / "where"
    project.mkdir()
    where.mkdir()
    (project / "conftest.py").write_text('pytest_plugins = ["tests.conftest"]\n')
    (project / "test_where.py").write_text(textwrap.dedent(PER_WORKER))
    env = session_env(temp, WHERE_DIR=str(where))
    done = subprocess.run(
        pytest_command("-n", "2", "--dist", "each", "test_where.py"),
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    seen = [json.loads(path.read_text()) for path in sorted(where.glob("gw*.json"))]
    assert len(seen) == 2 and all(info["answer"] == 1 for info in seen)
    assert len({info["pid"] for info in seen}) == 2  # two worker processes
    assert len({info["url"] for info in seen}) == 2 and len({info["s3"] for info in seen}) == 2
    for info in seen:
        folder = Path(info["servers_dir"])
        assert folder.parent == temp / "tradeops-test-servers" and folder.name.startswith(f"{info['pid']}-")
        assert not folder.exists()  # removed at the end of its worker's session


def test_dc_33_a_server_that_does_not_answer_in_time_fails_with_its_output_instead_of_hanging(temp):
    """The start guard of `tradeops_service` once read a live server's pipe for its failure message, which waits
    until the server exits: under load a slow start hung the session for good. The server is stopped first."""
    from tests.fakes.servers import tradeops_service

    env = session_env(temp, TRADEOPS_DATA_DIR=str(temp / "data"))
    refused = pytest.raises(AssertionError, match=r"`tradeops serve backtester` did not answer in 0 s")
    with refused as failed, tradeops_service(["serve", "backtester"], env, timeout=0):
        pass
    assert "serve backtester" in str(failed.value)
    left = [p for p in psutil.Process().children() if "backtester" in " ".join(p.cmdline())]
    assert not [p for p in left if p.status() != psutil.STATUS_ZOMBIE]  # stopped, not left running
