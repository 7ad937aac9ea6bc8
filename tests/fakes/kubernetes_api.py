"""A local fake of the Kubernetes API server for batch/v1 Jobs, speaking its real JSON over HTTP."""

from __future__ import annotations

import json
import re
import threading
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


class FakeKubernetes:
    """Holds Jobs per namespace; records deletions."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, dict[str, Any]]] = {}
        self.cronjobs: dict[str, list[dict[str, Any]]] = {}
        self.deleted: list[tuple[str, str, str | None]] = []
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
                if not match or match["name"]:
                    return self._reply(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})
                items = list(fake.jobs.get(match["ns"], {}).values())
                self._reply(
                    200,
                    {"apiVersion": "batch/v1", "kind": "JobList", "metadata": {"resourceVersion": "1"}, "items": items},
                )

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

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
