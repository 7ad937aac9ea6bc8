"""Components and whole stacks under Pulumi's mocks: the gate, hardening, secrets, schedules, network."""

from __future__ import annotations

import json

import pulumi
import pytest
from infra.components.network import EXTERNAL, FLOWS
from pipelines.infra.evaluate import SECRET_PLACEHOLDER, evaluate
from pipelines.infra.render import REDACTED, manifests

from tests.infra.conftest import STACKS, of_kind

pytestmark = pytest.mark.parametrize("stack", STACKS)


@pytest.mark.req("DC-1", "DC-2")
def test_dc_1_dc_2_trader_waits_for_an_await_safe_gate_job(evaluations, stack):
    evaluation = evaluations[stack]
    components = evaluation.components
    assert [name for name, _ in components.trader.waits_for] == ["gate"]
    assert components.trader.waits_for[0][1] is components.gate.job
    assert components.backtester.waits_for == () and components.slackbot.waits_for == ()
    (job,) = of_kind(evaluation, "kubernetes:batch/v1:Job")
    assert "name" not in job.inputs["metadata"]  # auto-named: every candidate gets a new Job
    spec = job.inputs["spec"]
    assert spec["backoffLimit"] == 0 and spec["activeDeadlineSeconds"] > 0 and "ttlSecondsAfterFinished" not in spec
    assert job.inputs["metadata"]["annotations"]["pulumi.com/replaceUnready"] == "true"
    template = spec["template"]["metadata"]["annotations"]
    assert template["tradeops.io/version"] == evaluation.version and len(template["tradeops.io/candidate-hash"]) == 16
    container = spec["template"]["spec"]["containers"][0]
    config = "/etc/tradeops/candidate/candidate.yaml"
    assert container["args"] == ["gate", "--config", config, "--stack-verdict", "--json"]


@pytest.mark.req("DC-1", "DC-12")
def test_dc_1_dc_12_the_trader_trades_the_gated_candidate_alone_within_the_stack_limits(evaluations, stack):
    evaluation = evaluations[stack]
    deployment = next(
        r
        for r in of_kind(evaluation, "kubernetes:apps/v1:Deployment")
        if r.inputs["metadata"]["name"] == "tradeops-trader"
    )
    spec = deployment.inputs["spec"]
    assert spec["strategy"] == {"type": "Recreate"} and spec["replicas"] <= 1  # one writer per session ledger
    digest = evaluation.components.gate.candidate_hash
    assert spec["template"]["metadata"]["annotations"]["tradeops.io/candidate-hash"] == digest
    container = spec["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    assert env["TRADEOPS_TRADER_CANDIDATE"] == "/etc/tradeops/candidate/candidate.yaml"
    assert env["TRADEOPS_TRADER_SESSION"].endswith(digest[:12])
    limits = evaluation.components.config.risk.model_dump(exclude_defaults=True)  # the risk: and pre-trade limits
    given = {k for k in env if k.startswith("TRADEOPS_TRADER_")} - {
        "TRADEOPS_TRADER_CANDIDATE",
        "TRADEOPS_TRADER_SESSION",
    }
    assert given == {f"TRADEOPS_TRADER_{k.upper()}" for k in limits}
    mount = next(m for m in container["volumeMounts"] if m["name"] == "candidate")
    assert mount == {"name": "candidate", "mountPath": "/etc/tradeops/candidate", "readOnly": True}


@pytest.mark.req("DC-1")
def test_dc_1_a_new_candidate_or_version_changes_the_gate_template(stack):
    from pipelines.infra.evaluate import stack_config

    def gate_annotations(config):
        (job,) = of_kind(evaluate(stack, config=config), "kubernetes:batch/v1:Job")
        return job.inputs["spec"]["template"]["metadata"]["annotations"]

    base = stack_config(stack)
    changed = json.loads(json.dumps(base))
    changed["tradeops:settings"]["candidate"]["params"]["slow"] = 40
    bumped = base | {"tradeops:version": "v2"}
    original = gate_annotations(base)
    assert gate_annotations(changed)["tradeops.io/candidate-hash"] != original["tradeops.io/candidate-hash"]
    assert gate_annotations(bumped)["tradeops.io/version"] == "v2"


@pytest.mark.req("DC-1", "DW-2")
def test_dc_1_dw_2_every_workload_is_hardened_probed_and_limited(evaluations, stack):
    items = manifests(evaluations[stack])
    workloads = [m for m in items if m["kind"] in ("Deployment", "Job", "CronJob")]
    # four services, the gate Job, two CronJobs; staging and prod also fetch market data
    assert len(workloads) == (7 if stack == "dev" else 8)
    for item in workloads:
        spec = item["spec"]
        pod = (spec["jobTemplate"]["spec"] if item["kind"] == "CronJob" else spec)["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] >= 10000
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] and not context["allowPrivilegeEscalation"]
            assert context["capabilities"]["drop"] == ["ALL"]
            assert {"cpu", "memory"} <= set(container["resources"]["limits"])
            assert "@sha256:" in container["image"]
        if item["kind"] == "Deployment":
            container = pod["containers"][0]
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert "prometheus.io/scrape" not in item["spec"]["template"]["metadata"].get("annotations", {})  # DC-50
            # only the backtester talks to the Kubernetes API (it creates sweep Jobs; see the DC-21 test)
            assert pod["automountServiceAccountToken"] is (item["metadata"]["name"] == "tradeops-backtester")
        labels = item["metadata"]["labels"]
        assert {
            "app.kubernetes.io/name",
            "app.kubernetes.io/component",
            "app.kubernetes.io/part-of",
            "app.kubernetes.io/version",
        } <= set(labels)


@pytest.mark.req("DC-1")
def test_dc_1_no_plaintext_secret_anywhere(evaluations, stack):
    evaluation = evaluations[stack]
    (secret,) = [m for m in manifests(evaluation) if m["kind"] == "Secret"]
    assert set(secret["stringData"].values()) == {REDACTED}
    assert set(secret["stringData"]) >= {"TRADEOPS_API_TOKEN", "TRADEOPS_DATABASE_URL", "TRADEOPS_SLACK_TOKEN"}
    rendered = json.dumps(manifests(evaluation))
    assert SECRET_PLACEHOLDER not in rendered
    for item in manifests(evaluation):
        for container in json.dumps(item.get("spec", {})).split('"env"')[1:]:
            assert "secretKeyRef" not in container  # secrets arrive as files, never env literals
    (config_map,) = [m for m in manifests(evaluation) if m["metadata"]["name"] == "tradeops-settings"]
    assert not any("TOKEN" in key or "SECRET" in key for key in config_map["data"] if key != "TRADEOPS_SECRETS_DIR")


@pytest.mark.req("DC-4")
def test_dc_4_maintenance_cronjobs_never_overlap_and_cleanup_has_only_what_it_needs(evaluations, stack):
    from infra.config import check_cron

    crons = {m["metadata"]["name"]: m for m in manifests(evaluations[stack]) if m["kind"] == "CronJob"}
    assert set(crons) - {"tradeops-market-data"} == {"tradeops-backup", "tradeops-cleanup"}
    for cron in crons.values():
        check_cron(cron["spec"]["schedule"])
        assert cron["spec"]["concurrencyPolicy"] == "Forbid" and cron["spec"]["startingDeadlineSeconds"] > 0
        assert cron["spec"]["successfulJobsHistoryLimit"] == 3
    backup_pod = crons["tradeops-backup"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert backup_pod["automountServiceAccountToken"] is False
    assert backup_pod["containers"][0]["args"] == ["backup", "create", "--kind", "scheduled", "--verify"]
    (role,) = [
        m for m in manifests(evaluations[stack]) if m["kind"] == "Role" and m["metadata"]["name"] == "tradeops-cleanup"
    ]
    assert role["rules"] == [{"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["list", "delete"]}]


@pytest.mark.req("DC-1")
def test_dc_1_deployments_are_reachable_only_through_declared_flows(evaluations, stack):
    policies = [m for m in manifests(evaluations[stack]) if m["kind"] == "NetworkPolicy"]
    deny = [p for p in policies if p["metadata"]["name"] == "tradeops-default-deny"]
    assert deny and deny[0]["spec"]["podSelector"] == {} and deny[0]["spec"]["policyTypes"] == ["Ingress", "Egress"]
    ingress = {p["metadata"]["name"] for p in policies if p["spec"]["policyTypes"] == ["Ingress"]}
    expected = {f"tradeops-{target}-from-{source}" for source, target, _ in FLOWS if target not in EXTERNAL}
    assert ingress == expected
    for name in ("backtester", "trader", "slackbot", "mcp"):
        sources = {s for s, t, _ in FLOWS if t == name}
        assert {p for p in ingress if p.startswith(f"tradeops-{name}-from-")} == {
            f"tradeops-{name}-from-{s}" for s in sources
        }
    assert "trader" not in {s for s, t, _ in FLOWS if t == "slack"}  # the trader talks to the broker only


@pytest.mark.req("DC-1")
@pulumi.runtime.test
def test_dc_1_component_outputs_resolve_under_mocks(stack):
    components = evaluate(stack).components

    def check(values: list) -> None:
        deployment_name, namespace, image = values
        assert deployment_name == "tradeops-trader"
        assert namespace.startswith("tradeops-")
        assert "@sha256:" in image

    return pulumi.Output.all(
        components.trader.deployment.metadata.name, components.namespace.metadata.name, components.image.reference
    ).apply(check)


@pytest.mark.req("DC-17")
def test_dc_17_the_backup_cronjob_test_restores_what_it_makes(evaluations, stack):
    (cron,) = [m for m in manifests(evaluations[stack]) if m["metadata"]["name"] == "tradeops-backup"]
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["args"][:2] == ["backup", "create"] and "--verify" in container["args"]


@pytest.mark.req("DC-21")
def test_dc_21_only_the_backtester_may_create_jobs_and_only_in_its_namespace(evaluations, stack):
    items = manifests(evaluations[stack])
    (namespace,) = [m["metadata"]["name"] for m in items if m["kind"] == "Namespace"]
    roles = {m["metadata"]["name"]: m for m in items if m["kind"] == "Role"}
    assert not [m for m in items if m["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    creators = [name for name, role in roles.items() if any("create" in r["verbs"] for r in role["rules"])]
    assert creators == ["tradeops-sweeps"]
    assert roles["tradeops-sweeps"]["rules"] == [
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "get", "list"]},
        {"apiGroups": ["batch"], "resources": ["jobs/status"], "verbs": ["get"]},
    ]
    (binding,) = [m for m in items if m["kind"] == "RoleBinding" and m["roleRef"]["name"] == "tradeops-sweeps"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "tradeops-backtester", "namespace": binding["metadata"]["namespace"]}
    ]
    assert roles["tradeops-sweeps"]["metadata"]["namespace"] == binding["metadata"]["namespace"]
    assert binding["metadata"]["namespace"] == namespace
    (config_map,) = [m for m in items if m["kind"] == "ConfigMap" and m["metadata"]["name"] == "tradeops-settings"]
    assert json.loads(config_map["data"]["TRADEOPS_SWEEP_JOB"])["retries_per_shard"] >= 0
    assert ("backtester", "kubernetes-api", 443) in FLOWS and ("sweep", "minio", 9000) in FLOWS


@pytest.mark.req("DC-15")
def test_dc_15_the_market_data_cronjob_syncs_the_stack_datasets_with_narrow_egress(evaluations, stack):
    import json as _json

    items = manifests(evaluations[stack])
    crons = {m["metadata"]["name"]: m for m in items if m["kind"] == "CronJob"}
    if stack == "dev":
        assert "tradeops-market-data" not in crons  # dev gates on bundled samples: nothing to fetch
        return
    cron = crons["tradeops-market-data"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["data", "sync"] and pod["automountServiceAccountToken"] is False
    env = {item["name"]: item["value"] for item in container["env"] if "value" in item}
    sources = _json.loads(env["TRADEOPS_MARKET_DATASETS"])
    (candidate,) = [m["data"]["candidate.yaml"] for m in items if "candidate.yaml" in m.get("data", {})]
    assert f"dataset:{sources[0]['dataset']}" in candidate  # the gate judges what the CronJob fetches
    egress = {
        m["metadata"]["name"]: m["spec"]["egress"]
        for m in items
        if m["kind"] == "NetworkPolicy"
        and m["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") == "tradeops-market-data"
        and "egress" in m["spec"]
    }
    assert set(egress) == {"tradeops-market-data-to-minio", "tradeops-market-data-to-exchange"}
    assert egress["tradeops-market-data-to-exchange"][0]["ports"] == [{"protocol": "TCP", "port": 443}]
    assert "ipBlock" in egress["tradeops-market-data-to-exchange"][0]["to"][0]
