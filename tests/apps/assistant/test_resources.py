"""Resources: only the listed files, stack configs with secrets by name only, the latest verdict per stack."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from tests.apps.assistant.conftest import BOB, http_client
from tradeops.backup import BackupRepository
from tradeops.releases import Release, ReleaseStore
from tradeops.settings import load_settings
from tradeops.store import open_object_store

STACK = """config:
  tradeops:version: dev
  tradeops:apiToken:
    secure: v1:c2VjcmV0LXZhbHVlLW5ldmVyLXNob3du
  tradeops:settings:
    namespace: tradeops-dev
    candidate: {strategy: sma_cross, params: {fast: 10, slow: 30}, data: sample:GOOG}
"""


@pytest.mark.req("DC-23")
def test_dc_23_releases_and_backups_are_read_from_the_stores(serve_http, desk):
    settings = load_settings(data_dir=desk.data_dir)
    objects = open_object_store(settings.resolved_object_store)
    for version, day, result in (("v1.0.0", 2, "succeeded"), ("v1.1.0", 5, "failed")):
        at = datetime(2026, 1, day, 10, 0, tzinfo=UTC)
        ReleaseStore(objects).save(
            Release(
                id=f"deploy-{version}", stack="staging", kind="deploy", version=version, git_sha=f"{version}-sha",
                config={}, gate_passed=True, result=result, started_at=at, finished_at=at, who="ci@github",
            )
        )  # fmt: skip
    repository = BackupRepository(settings.resolved_database_url, objects)
    first = repository.create()
    repository.verify(first.id)

    async def reads(url: str) -> tuple[dict, dict, dict]:
        async with http_client(url, BOB) as client:
            releases = await client.call_tool("list_releases", {"stack": "staging", "limit": 5})
            empty = await client.call_tool("list_releases", {})
            backups = await client.call_tool("list_backups", {})
            return releases.structured_content, empty.structured_content, backups.structured_content

    with serve_http() as url:
        releases, empty, backups = anyio.run(reads, url)
    assert [(r["version"], r["result"]) for r in releases["releases"]] == [
        ("v1.1.0", "failed"),
        ("v1.0.0", "succeeded"),
    ]
    assert empty == {"stack": "dev", "releases": []}
    (backup,) = backups["backups"]
    assert backup["id"] == first.id and backup["verified"] is True and backups["rpo_seconds"] is not None


@pytest.mark.req("DC-23")
def test_dc_23_resources_show_listed_files_only_and_secrets_by_name(serve_http, desk, tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / "docs").mkdir(parents=True)
    (checkout / "infra/stacks").mkdir(parents=True)
    (checkout / "docs/mcp.md").write_text("# MCP\n")
    (checkout / "docs/diagrams.md").write_text("# Diagrams\n")
    (checkout / "system_map.yaml").write_text("services: {}\n")
    (checkout / "infra/stacks/Pulumi.dev.yaml").write_text(STACK)
    (checkout / ".env").write_text("TRADEOPS_API_TOKEN=never-readable\n")
    objects = open_object_store(load_settings(data_dir=desk.data_dir).resolved_object_store)
    ReleaseStore(objects).save_verdict("dev", "old", {"passed": False, "exit_code": 1, "checks": []})
    newest = ReleaseStore(objects).save_verdict("dev", "abc123", {"passed": True, "exit_code": 0, "checks": []})
    objects.put("datasets/btc-usd-1h/v1/part-0.parquet", b"x")
    objects.put("datasets/btc-usd-1h/v1/manifest.json", b"{}")

    async def reads(url: str) -> dict:
        async with http_client(url, BOB) as client:

            async def text(uri: str) -> str:
                return (await client.read_resource(uri)).contents[0].text

            out = {
                "index": json.loads(await text("tradeops://index"))["resources"],
                "map": await text("tradeops://system-map"),
                "page": await text("tradeops://docs/mcp"),
                "config": json.loads(await text("tradeops://stacks/dev/config")),
                "verdict": json.loads(await text("tradeops://stacks/dev/verdict")),
                "no_verdict": json.loads(await text("tradeops://stacks/prod/verdict")),
                "datasets": (await client.call_tool("list_datasets", {})).structured_content,
                "review": (await client.get_prompt("review_candidate", {"stack": "dev"})).messages[0].content.text,
            }
            for uri in ("tradeops://docs/..%2F.env", "tradeops://docs/nosuch", "tradeops://stacks/..%2F..%2Fx/config"):
                with pytest.raises(MCPError):
                    await text(uri)
            return out

    with serve_http(git_remote=None, mcp_files_dir=checkout) as url:
        got = anyio.run(reads, url)
    assert got["index"] == [
        "tradeops://system-map",
        "tradeops://diagrams",
        "tradeops://docs/diagrams",
        "tradeops://docs/mcp",
        "tradeops://stacks/dev/config",
        "tradeops://stacks/dev/verdict",
    ]
    assert got["map"] == "services: {}\n" and got["page"] == "# MCP\n"
    assert got["config"]["secrets_by_name"] == ["tradeops:apiToken"]
    assert "c2VjcmV0" not in json.dumps(got["config"]) and got["config"]["settings"]["namespace"] == "tradeops-dev"
    assert got["verdict"]["id"] == newest.id and got["verdict"]["passed"] is True
    assert got["no_verdict"]["verdict"] is None
    assert got["datasets"]["datasets"] == [{"name": "btc-usd-1h", "versions": ["v1"], "objects": 2}]
    assert "tradeops://stacks/dev/config" in got["review"] and "propose_parameters" in got["review"]
