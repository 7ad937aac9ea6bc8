"""A local fake of the Kubernetes API server for batch/v1 Jobs, speaking its real JSON over HTTP.

Jobs can be listed, read, deleted and created; a created Indexed Job is defaulted and validated as
the API server does (the rules of completionMode Indexed and backoffLimitPerIndex), and its status
moves as the Job controller would move it when a test reports an index done or failed.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

JOBS = re.compile(r"^/apis/batch/v1/namespaces/(?P<ns>[^/]+)/jobs(?:/(?P<name>[^/?]+))?")
CRONJOBS = re.compile(r"^/apis/batch/v1/namespaces/(?P<ns>[^/]+)/cronjobs/?(?:\?.*)?$")


def cronjob(name: str, namespace: str, *, last_success: str | None) -> dict[str, Any]:
    """A CronJob object as the API server returns it."""
    status = {"lastScheduleTime": last_success} if last_success else {}
    if last_success:
        status["lastSuccessfulTime"] = last_success
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
        "spec": {
            "schedule": "15 2 * * *",
            "jobTemplate": {
                "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}], "restartPolicy": "Never"}}}
            },
        },
        "status": status,
    }


def job(
    name: str,
    namespace: str,
    *,
    finished: str | None,
    outcome: str = "Complete",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Job object as the API server returns it."""
    conditions = (
        []
        if finished is None
        else [{"type": outcome, "status": "True", "lastProbeTime": finished, "lastTransitionTime": finished}]
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "labels": labels or {},
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {
            "template": {
                "metadata": {"annotations": annotations or {}},
                "spec": {"containers": [{"name": "c", "image": "x"}], "restartPolicy": "Never"},
            }
        },
        "status": {"conditions": conditions},
    }


DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _invalid(name: str, causes: list[tuple[str, str]]) -> dict[str, Any]:
    """A 422 Status as the API server returns it for a Job that fails validation."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": f'Job.batch "{name}" is invalid: ' + "; ".join(f"{f}: {m}" for f, m in causes),
        "reason": "Invalid",
        "details": {
            "name": name,
            "group": "batch",
            "kind": "Job",
            "causes": [{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in causes],
        },
        "code": 422,
    }


def validate_job(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The API server's checks that an Indexed Job with per-index backoff must pass."""
    spec, name = body.get("spec") or {}, (body.get("metadata") or {}).get("name", "")
    pod = ((spec.get("template") or {}).get("spec")) or {}
    causes = []
    if not DNS_LABEL.match(name) or len(name) > 63:
        causes.append(("metadata.name", "a lowercase RFC 1123 label of at most 63 characters"))
    if spec.get("completionMode", "NonIndexed") not in ("Indexed", "NonIndexed"):
        causes.append(("spec.completionMode", 'supported values: "NonIndexed", "Indexed"'))
    indexed = spec.get("completionMode") == "Indexed"
    if indexed and not isinstance(spec.get("completions"), int):
        causes.append(("spec.completions", "when completion mode is Indexed, completions must be set"))
    if "backoffLimitPerIndex" in spec and not indexed:
        causes.append(("spec.backoffLimitPerIndex", "requires indexed completion mode"))
    if "backoffLimitPerIndex" in spec and pod.get("restartPolicy") != "Never":
        causes.append(("spec.template.spec.restartPolicy", "must be Never when backoffLimitPerIndex is set"))
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        causes.append(("spec.template.spec.restartPolicy", 'supported values: "OnFailure", "Never"'))
    if not pod.get("containers"):
        causes.append(("spec.template.spec.containers", "Required value"))
    return causes


def default_job(body: dict[str, Any], version: int) -> dict[str, Any]:
    """The stored Job: the server's defaults and an empty status, as a create returns it."""
    uid = f"uid-{body['metadata']['name']}"
    job = json.loads(json.dumps(body))
    job["metadata"] |= {"uid": uid, "resourceVersion": str(version), "creationTimestamp": _stamp(), "generation": 1}
    spec = job["spec"]
    spec.setdefault("parallelism", 1)
    spec.setdefault("suspend", False)
    spec.setdefault("manualSelector", False)
    spec.setdefault("backoffLimit", 2147483647 if "backoffLimitPerIndex" in spec else 6)
    if "backoffLimitPerIndex" in spec:
        spec.setdefault("podReplacementPolicy", "Failed")
    controller = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": job["metadata"]["name"]}
    spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    template_meta = spec["template"].setdefault("metadata", {})
    template_meta["labels"] = dict(template_meta.get("labels") or {}) | controller
    job["status"] = {"active": spec["parallelism"], "ready": 0, "terminating": 0, "startTime": _stamp()}
    job["status"]["uncountedTerminatedPods"] = {}
    return job


def index_ranges(indexes: set[int]) -> str:
    """Indexes as the API server writes completedIndexes/failedIndexes: "0-2,5"."""
    ranges: list[list[int]] = []
    for i in sorted(indexes):
        if ranges and ranges[-1][1] == i - 1:
            ranges[-1][1] = i
        else:
            ranges.append([i, i])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


class FakeKubernetes:
    """Holds Jobs per namespace; records creations and deletions."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, dict[str, Any]]] = {}
        self.cronjobs: dict[str, list[dict[str, Any]]] = {}
        self.deleted: list[tuple[str, str, str | None]] = []
        self.created: list[dict[str, Any]] = []
        self.version = 1
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_GET(self) -> None:
                crons = CRONJOBS.match(self.path)
                if crons:
                    return self._reply(
                        200,
                        {
                            "apiVersion": "batch/v1",
                            "kind": "CronJobList",
                            "metadata": {"resourceVersion": "1"},
                            "items": fake.cronjobs.get(crons["ns"], []),
                        },
                    )
                match = JOBS.match(self.path)
                if match and match["name"] and match["name"] in fake.jobs.get(match["ns"], {}):
                    return self._reply(200, fake.jobs[match["ns"]][match["name"]])  # .../jobs/NAME and .../status
                if not match or match["name"]:
                    return self._reply(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})
                items = list(fake.jobs.get(match["ns"], {}).values())
                self._reply(
                    200,
                    {"apiVersion": "batch/v1", "kind": "JobList", "metadata": {"resourceVersion": "1"}, "items": items},
                )

            def do_POST(self) -> None:
                match = JOBS.match(self.path)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if not match or match["name"]:
                    return self._reply(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})
                self._reply(*fake.create(match["ns"], body))

            def do_DELETE(self) -> None:
                match = JOBS.match(self.path)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                namespace, name = (match["ns"], match["name"]) if match else ("", "")
                if not name or name not in fake.jobs.get(namespace, {}):
                    return self._reply(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})
                fake.jobs[namespace].pop(name)
                query = dict(parse_qsl(urlsplit(self.path).query))  # the client sends it as a query parameter
                fake.deleted.append((namespace, name, query.get("propagationPolicy") or body.get("propagationPolicy")))
                self._reply(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, item: dict[str, Any]) -> None:
        self.jobs.setdefault(item["metadata"]["namespace"], {})[item["metadata"]["name"]] = item

    def create(self, namespace: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """What POST .../namespaces/NS/jobs answers: 201 and the defaulted Job, 422 Invalid or 409."""
        name = (body.get("metadata") or {}).get("name", "")
        body.setdefault("metadata", {})["namespace"] = namespace
        causes = validate_job(body)
        if body.get("kind") != "Job" or body.get("apiVersion") != "batch/v1":
            causes.append(("kind", "expected batch/v1 Job"))
        if causes:
            return 422, _invalid(name, causes)
        if name in self.jobs.get(namespace, {}):
            status = {"kind": "Status", "status": "Failure", "reason": "AlreadyExists", "code": 409}
            return 409, status | {"message": f'jobs.batch "{name}" already exists'}
        self.version += 1
        stored = default_job(body, self.version)
        self.created.append(body)
        self.add(stored)
        return 201, stored

    def finish_index(self, namespace: str, name: str, index: int, *, succeeded: bool = True) -> None:
        """Move an Indexed Job's status as the controller does when index `index` succeeds or fails for good."""
        job = self.jobs[namespace][name]
        status, completions = job["status"], job["spec"]["completions"]
        done = _parse(status.get("completedIndexes")) | ({index} if succeeded else set())
        failed = _parse(status.get("failedIndexes")) | (set() if succeeded else {index})
        status["succeeded"], status["failed"] = len(done), len(failed)
        status["completedIndexes"] = index_ranges(done)
        if failed:
            status["failedIndexes"] = index_ranges(failed)
        status["active"] = max(0, min(job["spec"]["parallelism"], completions - len(done) - len(failed)))
        if len(done) + len(failed) == completions:
            outcome = "Complete" if not failed else "Failed"
            reason = {"Complete": "CompletionsReached", "Failed": "FailedIndexes"}[outcome]
            stamp = _stamp()
            condition = {"status": "True", "lastProbeTime": stamp, "lastTransitionTime": stamp, "reason": reason}
            status["conditions"] = [condition | {"type": outcome}]
            status["completionTime" if outcome == "Complete" else "startTime"] = stamp

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _parse(text: str | None) -> set[int]:
    found: set[int] = set()
    for item in (text or "").split(","):
        if item:
            low, _, high = item.partition("-")
            found.update(range(int(low), int(high or low) + 1))
    return found
