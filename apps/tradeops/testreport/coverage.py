"""A coverage summary from coverage.xml: per package and per requirement area, as Markdown and HTML with SVG bars.

A package is a source folder (`apps/tradeops/gate`). A requirement area is an ID prefix (`BT`, `OE`, ...):
its coverage is over the source its tests exercise, found by the rule that tests mirror the source tree
(`tests/apps/gate/test_gate.py` -> `apps/tradeops/gate/`, `tests/apps/test_watch.py` -> `apps/tradeops/watch.py`).
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tradeops.errors import ConfigError
from tradeops.requirements.catalog import Requirement

MIRRORS = {"tests/apps": "apps/tradeops", "tests/pipelines": "pipelines", "tests/infra": "infra"}
GOOD, FAIR = 90.0, 75.0  # bar colours: the gate's 90 % and a warning band below it


@dataclass(frozen=True)
class FileCoverage:
    """Statement coverage of one source file (path relative to the project root)."""

    path: str
    statements: int
    covered: int


@dataclass(frozen=True)
class Share:
    """Covered statements of a group of files."""

    name: str
    files: int
    statements: int
    covered: int

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.statements if self.statements else 100.0


def read_coverage(path: Path, root: Path) -> list[FileCoverage]:
    """Read coverage.xml; name each file by its path under `root` (coverage.xml names it under its source)."""
    try:
        tree = ET.parse(path).getroot()  # noqa: S314 - our own file
    except (OSError, ET.ParseError) as error:
        raise ConfigError(f"{path}: cannot read coverage XML: {error}") from error
    sources = [Path(s.text or ".") for s in tree.iter("source")]
    sources = [s if s.is_absolute() else root / s for s in sources]
    files: dict[str, FileCoverage] = {}
    for cls in tree.iter("class"):
        name = cls.get("filename", "")
        where = next((s / name for s in sources if (s / name).is_file()), root / name)
        relative = where.resolve().relative_to(root.resolve()).as_posix() if where.is_file() else name
        lines = cls.findall("lines/line")
        files[relative] = FileCoverage(relative, len(lines), sum(int(x.get("hits", "0")) > 0 for x in lines))
    if not files:
        raise ConfigError(f"{path}: no measured files")
    return sorted(files.values(), key=lambda f: f.path)


def _share(name: str, files: list[FileCoverage]) -> Share:
    return Share(name, len(files), sum(f.statements for f in files), sum(f.covered for f in files))


def by_package(files: list[FileCoverage]) -> list[Share]:
    """Group files by their folder."""
    groups: dict[str, list[FileCoverage]] = defaultdict(list)
    for file in files:
        groups[str(PurePosixPath(file.path).parent)].append(file)
    return [_share(name, group) for name, group in sorted(groups.items())]


def mirrored_sources(test: str, files: list[FileCoverage]) -> list[FileCoverage]:
    """Return the measured files a test file mirrors (`tests/apps/gate/test_x.py` -> `apps/tradeops/gate/`)."""
    module = PurePosixPath(test.split("::", 1)[0])
    folder = module.parent.as_posix()
    base = next((b for b in MIRRORS if folder == b or folder.startswith(b + "/")), None)
    if base is None:
        return []
    source = MIRRORS[base] + folder[len(base) :]
    inside = [f for f in files if f.path.startswith(source + "/")]
    stem = module.stem.removeprefix("test_")
    named = [f for f in inside if stem in PurePosixPath(f.path[len(source) + 1 :]).with_suffix("").parts]
    return named or (inside if folder != base else [])


def by_area(files: list[FileCoverage], catalog: list[Requirement]) -> list[Share]:
    """Coverage of the source each requirement area's tests mirror."""
    areas: dict[str, dict[str, FileCoverage]] = defaultdict(dict)
    for requirement in catalog:
        area = areas[requirement.id.split("-")[0]]
        for test in requirement.tests:
            area.update({f.path: f for f in mirrored_sources(test, files)})
    return [_share(name, list(area.values())) for name, area in sorted(areas.items()) if area]


def _markdown(total: Share, packages: list[Share], areas: list[Share]) -> str:
    def table(title: str, shares: list[Share]) -> list[str]:
        rows = [f"| {s.name} | {s.files} | {s.statements} | {s.covered} | {s.percent:.1f} % |" for s in shares]
        return [
            "",
            f"### {title}",
            "",
            "| | files | statements | covered | coverage |",
            "|---|---:|---:|---:|---:|",
            *rows,
        ]

    lines = [
        "## Coverage",
        "",
        f"{total.percent:.1f} % of {total.statements} statements in {total.files} files (gate: {GOOD:.0f} %).",
    ]
    lines += table("Per package", packages)
    lines += table("Per requirement area (the source its tests mirror)", areas)
    return "\n".join(lines) + "\n"


def bar_chart(shares: list[Share], width: int = 720) -> str:
    """Return an inline SVG: one horizontal bar per share, coloured by the 90 % gate."""
    label, row = 260, 22
    bars = []
    for i, share in enumerate(shares):
        y = i * row
        length = (width - label - 70) * share.percent / 100
        colour = "#177245" if share.percent >= GOOD else "#b54708" if share.percent >= FAIR else "#b42318"
        bars.append(
            f"<text x='{label - 6}' y='{y + 15}' text-anchor='end'>{html.escape(share.name)}</text>"
            f"<rect x='{label}' y='{y + 4}' width='{length:.1f}' height='{row - 8}' fill='{colour}'>"
            f"<title>{share.covered}/{share.statements} statements</title></rect>"
            f"<text x='{label + length + 6:.1f}' y='{y + 15}'>{share.percent:.1f} %</text>"
        )
    gate = label + (width - label - 70) * GOOD / 100
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{len(shares) * row + 4}' "
        f"font-family='system-ui,sans-serif' font-size='12'>{''.join(bars)}"
        f"<line x1='{gate:.1f}' x2='{gate:.1f}' y1='0' y2='{len(shares) * row}' stroke='#888' "
        "stroke-dasharray='3 3'/></svg>"
    )


def _html(total: Share, packages: list[Share], areas: list[Share]) -> str:
    return (
        "<!doctype html><meta charset='utf-8'><title>Coverage summary</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}</style><h1>Coverage summary</h1>"
        f"<p>{total.percent:.1f} % of {total.statements} statements in {total.files} files; the dashed line is the"
        f" {GOOD:.0f} % gate. Line by line: <a href='coverage/index.html'>coverage/index.html</a>.</p>"
        f"<h2>Per package</h2>{bar_chart(packages)}"
        f"<h2>Per requirement area</h2><p>The source each area's tests mirror.</p>{bar_chart(areas)}"
    )


def write_coverage_summary(files: list[FileCoverage], catalog: list[Requirement], out_dir: Path) -> tuple[Path, Path]:
    """Write `coverage-summary.md` and `coverage-summary.html` (self-contained, inline SVG) into `out_dir`."""
    total, packages, areas = _share("total", files), by_package(files), by_area(files, catalog)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown, page = out_dir / "coverage-summary.md", out_dir / "coverage-summary.html"
    markdown.write_text(_markdown(total, packages, areas))
    page.write_text(_html(total, packages, areas))
    return markdown, page
