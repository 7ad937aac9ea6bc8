"""The deployment documentation covers every part of a deploy, and its runbooks exist, link and use real commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT = ROOT / "docs" / "deployment.md"
RUNBOOKS = ("failed-gate", "failed-deploy", "rollback")
SECTIONS = (
    "Prerequisites",
    "Secrets (once per stack, never in the repository)",
    "First deploy of each stack",
    "What a deploy does",
    "The pull-request flow",
    "Approvals",
    "Rollback",
    "Drift",
    "Secrets rotation",
)


def commands(text: str) -> list[list[str]]:
    """Every `tradeops ...` command quoted in backticks or in a code block."""
    found = re.findall(r"`(?:\.venv/bin/)?tradeops ([^`]+)`", text)
    found += re.findall(r"^\.venv/bin/tradeops ([^#\n]+)", text, re.MULTILINE)
    return [shlex.split(c.replace("[", "").replace("]", "").replace("|", " ")) for c in found]


@pytest.mark.req("DW-5")
def test_dw_5_deployment_doc_has_every_section_and_links_the_runbooks():
    text = DEPLOYMENT.read_text()
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    for section in SECTIONS:
        assert section in headings, f"docs/deployment.md has no section {section!r}"
    for name in RUNBOOKS:
        assert f"(runbooks/{name}.md)" in text
        assert f"runbooks/{name}.md" in (ROOT / "docs" / "README.md").read_text()


@pytest.mark.req("DW-5")
@pytest.mark.parametrize("name", RUNBOOKS)
def test_dw_5_each_runbook_is_a_numbered_step_list(name):
    text = (ROOT / "docs" / "runbooks" / f"{name}.md").read_text()
    assert text.startswith("# Runbook: ")
    steps = [int(n) for n in re.findall(r"^(\d+)\. ", text, re.MULTILINE)]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= 5
    assert "tradeops releases --stack" in text or "tradeops pipeline gate" in text


@pytest.mark.req("DW-5")
def test_dw_5_every_command_the_deployment_docs_give_exists():
    from tradeops.cli import command_tree

    root = command_tree()
    pages = [DEPLOYMENT, *(ROOT / "docs" / "runbooks").glob("*.md")]
    checked = 0
    for page in pages:
        for words in commands(page.read_text()):
            command = root
            for word in words:
                sub = getattr(command, "commands", {}).get(word)
                if sub is None:
                    break
                command = sub
            assert command is not root, f"{page.name}: `tradeops {' '.join(words)}` is not a command"
            options = {o for p in command.params for o in getattr(p, "opts", [])}
            for word in words:
                if word.startswith("--"):
                    assert word.split("=")[0] in options, f"{page.name}: `{' '.join(words)}`: no option {word}"
            checked += 1
    assert checked >= 20
