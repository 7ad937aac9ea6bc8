"""Policy pack entry point (run by the pulumi CLI: `pulumi preview --policy-pack infra/policy`)."""

from pulumi_policy import EnforcementLevel, PolicyPack

from infra.policy.policies import POLICIES

PolicyPack(name="tradeops", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
