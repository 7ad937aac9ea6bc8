"""The one image of the stack, built from apps/Dockerfile and tagged with the release version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker

from infra.config import Image

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class AppImageArgs:
    config: Image
    version: str
    pinned: str | None = None  # name@sha256:... of a promoted bundle: used as is, never rebuilt


class AppImage(pulumi.ComponentResource):
    """`docker build -f apps/Dockerfile .`, pushed when the stack says so; workloads use its digest."""

    def __init__(self, name: str, args: AppImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tradeops:build:AppImage", name, None, opts)
        self.image: docker.Image | None = None
        if args.pinned is not None:
            self.reference: pulumi.Output[str] = pulumi.Output.from_input(args.pinned)
            self.register_outputs({"image": args.pinned, "reference": self.reference})
            return
        self.image = docker.Image(
            f"{name}-image",
            image_name=f"{args.config.registry}/{args.config.repository}:{args.version}",
            build=docker.DockerBuildArgs(
                context=str(ROOT),
                dockerfile=str(ROOT / "apps" / "Dockerfile"),
                platform="linux/amd64",
                args={"VERSION": args.version},
            ),
            skip_push=not args.config.push,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.reference = self.image.repo_digest.apply(lambda digest: digest or "")  # name@sha256:... once pushed
        self.register_outputs({"image": self.image.image_name, "reference": self.reference})
