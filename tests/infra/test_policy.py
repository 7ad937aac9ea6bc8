"""The CrossGuard policy pack, called on the resource arguments the program actually declares."""

from __future__ import annotations

import copy

import pytest
from infra.policy import policies
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from tests.infra.conftest import of_kind

pytestmark = pytest.mark.req("DC-1", "DC-2")
OPTIONS = PolicyResourceOptions(
    protect=False,
    ignore_changes=[],
    delete_before_replace=None,
    aliases=[],
    custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
    additional_secret_outputs=[],
)


def violations(check, resource_type: str, props: dict) -> list[str]:
    found: list[str] = []
    args = ResourceValidationArgs(resource_type, props, f"urn:{resource_type}", "x", OPTIONS, None)
    check(args, lambda message, urn=None: found.append(message))
    return found


def policy_resources(evaluation) -> list[PolicyResource]:
    made = {}
    for recorded in evaluation.resources:
        made[recorded.name] = PolicyResource(
            recorded.type, recorded.outputs, f"urn:{recorded.name}", recorded.name, OPTIONS, None, None, [], {}
        )
    gate = made["gate-job"]
    made["trader-deployment"].dependencies = [gate] if evaluation.components.trader.waits_for else []
    return list(made.values())


def test_dc_1_dc_2_every_declared_resource_passes_every_policy(evaluations):
    for evaluation in evaluations.values():
        for recorded in evaluation.resources:
            props = (
                recorded.inputs if recorded.type.endswith(":Job") else recorded.outputs
            )  # a Job's name is the provider's
            for check in policies.RESOURCE_CHECKS:
                assert violations(check, recorded.type, props) == [], (recorded.name, check.__name__)
        found: list[str] = []
        for check in policies.STACK_CHECKS:
            check(StackValidationArgs(policy_resources(evaluation)), lambda message, urn=None: found.append(message))
        assert found == []


def test_dc_1_dc_2_policies_catch_what_they_guard(evaluations):
    evaluation = evaluations["dev"]
    deployment = copy.deepcopy(of_kind(evaluation, "kubernetes:apps/v1:Deployment")[0].outputs)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"]["readOnlyRootFilesystem"] = False
    container["image"] = "tradeops:latest"
    del container["readinessProbe"]
    hardened = violations(policies.hardened_containers, "kubernetes:apps/v1:Deployment", deployment)
    assert any("readOnlyRootFilesystem" in v for v in hardened) and any("digest" in v for v in hardened)
    assert violations(policies.services_probed, "kubernetes:apps/v1:Deployment", deployment)
    job = copy.deepcopy(of_kind(evaluation, "kubernetes:batch/v1:Job")[0].inputs)
    job["spec"]["backoffLimit"] = 3
    job["spec"]["ttlSecondsAfterFinished"] = 60
    job["metadata"]["annotations"]["pulumi.com/skipAwait"] = "true"
    job["metadata"]["name"] = "fixed-name"
    assert len(violations(policies.gate_job_await_safe, "kubernetes:batch/v1:Job", job)) == 4
    config_map = {"data": {"TRADEOPS_SLACK_TOKEN": "x", "HOOK": "xoxb-123-456"}}
    assert len(violations(policies.no_secrets_in_config_maps, "kubernetes:core/v1:ConfigMap", config_map)) == 2
    cron = copy.deepcopy(of_kind(evaluation, "kubernetes:batch/v1:CronJob")[0].outputs)
    cron["spec"] |= {"concurrencyPolicy": "Allow", "schedule": "nightly"}
    assert len(violations(policies.cronjobs_never_overlap, "kubernetes:batch/v1:CronJob", cron)) == 2
    resources = policy_resources(evaluation)
    next(r for r in resources if r.name == "trader-deployment").dependencies = []
    resources = [r for r in resources if r.name != "network-default-deny"]
    found: list[str] = []
    for check in policies.STACK_CHECKS:
        check(StackValidationArgs(resources), lambda message, urn=None: found.append(message))
    assert found == [
        "the trader Deployment must depend on the gate Job",
        "no default-deny NetworkPolicy (empty podSelector, Ingress and Egress)",
    ]
    assert {p.name for p in policies.POLICIES} >= {"gate-job-await-safe", "trader-waits-for-gate"}
