"""The MCP service in the stack: a hardened, probed Deployment behind a Service, reachable only through its
declared flows, with its writers and tokens from the stack config, and in the map and the diagrams."""

from __future__ import annotations

import pytest
import yaml
from infra.components.network import FLOWS
from infra.config import SECRET_KEYS, StackConfigError, parse_stack_config
from pipelines.infra.render import manifests

from tests.infra.conftest import STACKS
from tests.infra.test_render import ROOT


@pytest.mark.req("DC-23", "DC-1")
@pytest.mark.parametrize("stack", STACKS)
def test_dc_23_dc_1_the_mcp_service_is_declared_probed_and_reachable_only_through_its_flows(evaluations, stack):
    items = manifests(evaluations[stack])
    named = {(m["kind"], m["metadata"]["name"]): m for m in items}
    deployment = named[("Deployment", "tradeops-mcp")]
    assert ("Service", "tradeops-mcp") in named and ("PodDisruptionBudget", "tradeops-mcp") in named
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["args"] == ["serve", "mcp", "--host", "0.0.0.0", "--port", "8000"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["automountServiceAccountToken"] is False  # the MCP server never talks to the Kubernetes API
    assert named[("ServiceMonitor", "tradeops-mcp")]["spec"]["endpoints"][0]["path"] == "/metrics"

    policies = {m["metadata"]["name"] for m in items if m["kind"] == "NetworkPolicy"}
    outbound = {t for s, t, _ in FLOWS if s == "mcp"}
    assert outbound == {"backtester", "trader", "postgresql", "minio", "github"}
    assert {f"tradeops-mcp-to-{t}" for t in outbound} <= policies
    assert {"tradeops-mcp-from-world", "tradeops-mcp-from-monitoring"} <= policies
    assert "slack" not in outbound and "broker" not in outbound and "kubernetes-api" not in outbound


@pytest.mark.req("DC-23")
def test_dc_23_the_stack_names_the_mcp_writers_and_its_tokens_are_a_secret():
    from infra.components.settings import settings_values

    raw = yaml.safe_load((ROOT / "infra/stacks/Pulumi.prod.yaml").read_text())["config"]["tradeops:settings"]
    assert "TRADEOPS_MCP_WRITERS" not in settings_values(parse_stack_config(raw, "v1"), "v1")  # nobody by default
    writers = parse_stack_config(raw | {"mcp_writers": ["alice", "ops-agent"]}, "v1")
    assert settings_values(writers, "v1")["TRADEOPS_MCP_WRITERS"] == "alice,ops-agent"
    with pytest.raises(StackConfigError, match=r"mcp_writers\.0"):
        parse_stack_config(raw | {"mcp_writers": ["not a name"]}, "v1")
    assert SECRET_KEYS["mcpTokens"] == "mcp-tokens"  # mounted as the file TRADEOPS_MCP_TOKENS, never an env literal


@pytest.mark.req("DC-23", "SM-1")
def test_dc_23_sm_1_the_map_and_the_diagrams_show_the_mcp_service_and_its_edges():
    document = yaml.safe_load((ROOT / "system_map.yaml").read_text())
    for name in ("dev", "staging", "prod"):
        stack = document["stacks"][name]
        assert stack["services"]["mcp"]["command"][:3] == ["tradeops", "serve", "mcp"]
        edges = {(e["from"], e["to"]) for e in stack["edges"]}
        assert {("mcp", "backtester"), ("mcp", "minio"), ("mcp", "github"), ("mcp", "trader")} <= edges
    assert any(p.startswith("mcp") for p in document["dependencies"]["python_packages"])
    diagrams = (ROOT / "docs/diagrams.md").read_text()
    for edge in ("mcp -->|8000| backtester", "mcp -->|9000| minio", "mcp -->|443| github", "mcp -->|8000| trader"):
        assert edge in diagrams
