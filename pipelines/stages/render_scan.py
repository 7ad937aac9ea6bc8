"""`render-and-scan`: every manifest offline, validated against the Kubernetes schema, then scanned by checkov."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from pipelines.infra.evaluate import ROOT, evaluate
from pipelines.infra.render import write

KUBERNETES_VERSION = "1.31.0"
# Custom resources have no Kubernetes schema to validate against (the Prometheus Operator's ServiceMonitor);
# tests/infra/test_monitoring_selection.py checks their shape against how kube-prometheus-stack selects them.
CUSTOM_RESOURCES = frozenset({"monitoring.coreos.com/v1"})


def checkov_binary() -> Path:
    """checkov lives in a tool environment of its own (.venv-checkov, made by `make test`)."""
    return Path(os.environ.get("TRADEOPS_CHECKOV", ROOT / ".venv-checkov" / "bin" / "checkov"))


def schema_problems(folder: Path) -> list[str]:
    import kubernetes_validate

    problems = []
    for path in sorted(folder.glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        if document.get("apiVersion") in CUSTOM_RESOURCES:
            continue
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{path.name}: {error.message}")
    return problems


def checkov(folder: Path) -> dict[str, Any]:
    binary = checkov_binary()
    if not binary.exists():
        return {"error": f"checkov is not installed at {binary} (run `make test` once, or set TRADEOPS_CHECKOV)"}
    done = subprocess.run(  # noqa: S603 - the checkov of our tool environment, fixed arguments
        [str(binary), "--directory", str(folder), "--framework", "kubernetes", "--skip-download", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    report = json.loads(done.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = [f"{f['check_id']} {f['resource']}" for f in report["results"]["failed_checks"]]
    return {"summary": report["summary"], "failed": failed}


def render_and_scan(stack: str, out: Path) -> dict[str, Any]:
    """Render one stack into `out`, validate and scan it; `problems` empty when it may go on."""
    written = write(evaluate(stack), out)
    schema = schema_problems(out)
    scan = checkov(out)
    problems = schema + [f"checkov: {line}" for line in scan.get("failed", [])]
    if "error" in scan:
        problems.append(scan["error"])
    return {"stack": stack, "manifests": len(written), "checkov": scan.get("summary"), "problems": problems}
