"""A deploy's surroundings, real where we can: services on uvicorn with the real health endpoints, backups of a
real database into a real object store, the fake Kubernetes API, the fake Slack, and the local Pulumi engine."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from pipelines.deploy.deployer import Plan, Tools
from pipelines.deploy.engine import Target
from pipelines.infra.evaluate import stack_config

from tests.fakes.exchange import seed_stack_datasets
from tests.fakes.kubernetes_api import FakeKubernetes, job
from tests.fakes.pulumi_engine import FakeEngine
from tests.fakes.servers import uvicorn_server
from tests.fakes.slack_api import FakeSlack
from tradeops import __version__
from tradeops.backup import BackupRepository
from tradeops.cleanup.jobs import KubernetesJobs
from tradeops.notify.slack import SlackNotifier
from tradeops.releases import ReleaseStore
from tradeops.service.health import Health, install_health
from tradeops.store import RunStore
from tradeops.store.objects import FolderObjectStore

SERVICES = ("backtester", "trader")


@dataclass
class Cluster:
    """Services that answer /readyz and /status like the deployed ones; `roll` moves them to a version."""

    health: dict[str, Health]
    urls: dict[str, str]
    stuck: set[str]  # services that never take a new version (a crash-looping rollout)

    def roll(self, target: Target) -> None:
        for name, health in self.health.items():
            if name not in self.stuck:
                health.git_sha = target.version


@pytest.fixture(scope="module")
def running_services() -> Iterator[dict[str, Health]]:
    from contextlib import ExitStack

    healths = {name: Health(service=name, version=__version__, git_sha="none") for name in SERVICES}
    with ExitStack() as stack:
        urls = {}
        for name, health in healths.items():
            app = FastAPI()
            install_health(app, health)
            urls[name] = stack.enter_context(uvicorn_server(app))
        yield {"healths": healths, "urls": urls}  # type: ignore[misc]


@pytest.fixture
def cluster(running_services) -> Cluster:
    for health in running_services["healths"].values():
        health.git_sha = "none"
        health.checks = {}
    return Cluster(running_services["healths"], running_services["urls"], set())


@pytest.fixture
def kube() -> Iterator[FakeKubernetes]:
    fake = FakeKubernetes()
    yield fake
    fake.stop()


@dataclass
class Desk:
    """One deploy setup; `notifier.close()` flushes Slack before asserting on `slack.posted()`."""

    tools: Tools
    engine: FakeEngine
    releases: ReleaseStore
    slack: FakeSlack
    kube: FakeKubernetes
    cluster: Cluster
    backups: BackupRepository
    seen: int = 0

    def flush(self) -> list[dict]:
        """The Slack messages posted since the last flush."""
        self.tools.notifier.close()
        self.tools.notifier = SlackNotifier("xoxb-test", "#deploys", base_url=self.slack.base_url)
        posted = self.slack.posted()
        new, self.seen = posted[self.seen :], len(posted)
        return new


@pytest.fixture
def desk(tmp_path: Path, fake_slack: FakeSlack, kube: FakeKubernetes, cluster: Cluster) -> Iterator[Desk]:
    database_url = f"sqlite:///{tmp_path / 'tradeops.db'}"
    RunStore(database_url).close()  # the schema, as the services create it
    objects = FolderObjectStore(tmp_path / "objects")
    seed_stack_datasets(objects)  # what the stacks' market-data CronJob keeps there
    engine = FakeEngine()
    engine.on_up.append(cluster.roll)
    backups = BackupRepository(database_url, objects)
    tools = Tools(
        engine=engine,
        releases=ReleaseStore(objects),
        notifier=SlackNotifier("xoxb-test", "#deploys", base_url=fake_slack.base_url),
        restore_points=backups,
        jobs=KubernetesJobs("tradeops-staging", host=kube.url),
        services=cluster.urls,
        verify_timeout=1.5,
        verify_interval=0.1,
        who="ci@github",
    )
    yield Desk(tools, engine, tools.releases, fake_slack, kube, cluster, backups)
    tools.notifier.close()


def plan(version: str, stack: str = "staging", **settings_changes) -> Plan:
    settings = stack_config(stack)["tradeops:settings"] | settings_changes
    return Plan(stack=stack, version=version, git_sha=f"{version}{'0' * 40}"[:40], settings=settings)


def failed_gate_job(name: str) -> dict:
    return job(
        name,
        "tradeops-staging",
        finished="2026-01-01T00:00:00Z",
        outcome="Failed",
        labels={"app.kubernetes.io/component": "gate"},
    )
