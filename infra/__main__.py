"""Pulumi entry point: wiring only (`pulumi preview --stack dev` runs this)."""

from infra.stack import declare_from_pulumi_config

declare_from_pulumi_config()
