"""How a stack runs sweep shards as a Kubernetes Indexed Job: the `sweeps` section of its settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SERVICE_ACCOUNT = "tradeops-backtester"  # the only account whose Role may create Jobs (infra/components/sweeps.py)


class SweepJobConfig(BaseModel):
    """Resources and limits of each shard pod and of the Job as a whole."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu_request: str = Field("500m", pattern=r"^\d+m?$", description="CPU each shard pod requests")
    cpu_limit: str = Field("1", pattern=r"^\d+(\.\d+)?m?$")
    memory_request: str = Field("512Mi", pattern=r"^\d+(Mi|Gi)$")
    memory_limit: str = Field("2Gi", pattern=r"^\d+(Mi|Gi)$")
    parallelism: int = Field(8, ge=1, le=500, description="shard pods running at once")
    max_shards: int = Field(200, ge=1, le=10_000, description="largest shard count a submit may ask for")
    retries_per_shard: int = Field(2, ge=0, le=10, description="backoffLimitPerIndex: a failed shard is retried alone")
    deadline_seconds: int = Field(6 * 3600, ge=60, description="activeDeadlineSeconds of the whole Job")
    ttl_seconds: int = Field(7 * 86400, ge=60, description="ttlSecondsAfterFinished: the Job goes, parts stay")
