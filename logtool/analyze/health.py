"""Container health: per-container counts and activity from one typed scan, and a status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from logtool.analyze.load import Skipped, Tree
from logtool.analyze.query import named_rows
from logtool.errors import BadInputError


@dataclass(frozen=True)
class Thresholds:
    """When a container stops being ok.

    degraded: error rate ≥ degraded_rate or warning rate ≥ warning_rate; failing: error rate ≥
    failing_rate; silent: its last record is more than silent_after_s seconds older than the
    newest record of the whole tree (the tree's own clock, so old trees read the same later).
    """

    degraded_rate: float = 0.01
    failing_rate: float = 0.10
    warning_rate: float = 0.10
    silent_after_s: float = 300.0

    def check(self) -> None:
        """BadInputError for rates outside 0..1, a failing rate below degraded, negative time."""
        for name in ("degraded_rate", "failing_rate", "warning_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise BadInputError(f"--{name.replace('_', '-')} must be within 0..1, got {value}")
        if self.failing_rate < self.degraded_rate:
            raise BadInputError("--failing-rate must not be below --degraded-rate")
        if self.silent_after_s < 0:
            raise BadInputError("--silent-after must not be negative")


@dataclass
class ContainerHealth:
    """One container's row."""

    container_id: str
    records: int
    warnings: int
    errors: int
    components: int
    first_activity: datetime | None
    last_activity: datetime | None
    bytes: int
    status: str = "ok"

    @property
    def error_rate(self) -> float:
        """errors / records (0 when there are none)."""
        return self.errors / self.records if self.records else 0.0

    def to_json(self) -> dict[str, Any]:
        """The documented --json shape plus error_rate and first_activity."""
        return {
            "container_id": self.container_id, "records": self.records,
            "warnings": self.warnings, "errors": self.errors,
            "error_rate": round(self.error_rate, 6), "components": self.components,
            "first_activity": _iso(self.first_activity),
            "last_activity": _iso(self.last_activity), "bytes": self.bytes,
            "status": self.status,
        }


@dataclass
class HealthReport:
    """Every container's health, the thresholds applied and the lines skipped."""

    containers: list[ContainerHealth]
    thresholds: Thresholds
    skipped: Skipped = field(default_factory=Skipped)
    skipped_lines: int = 0


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="microseconds") + "Z"


def status_of(row: ContainerHealth, newest: datetime | None, t: Thresholds) -> str:
    """ok / degraded / failing / silent for one container (silent wins, then failing)."""
    if (newest is not None and row.last_activity is not None
            and newest - row.last_activity > timedelta(seconds=t.silent_after_s)):
        return "silent"
    if row.records and row.error_rate >= t.failing_rate:
        return "failing"
    warn_rate = row.warnings / row.records if row.records else 0.0
    if row.records and (row.error_rate >= t.degraded_rate or warn_rate >= t.warning_rate):
        return "degraded"
    return "ok"


def container_health(tree: Tree, thresholds: Thresholds | None = None) -> HealthReport:
    """One row per container with a status; one typed scan of the logs files.

    Lines that could not be read are counted in the same scan (skipped_lines); unreadable
    gzip tails found while opening are added.
    """
    t = thresholds or Thresholds()
    t.check()
    sizes = {r["container_id"]: int(r["bytes"]) for r in named_rows(tree, "container_bytes")}
    rows: list[ContainerHealth] = []
    skipped_lines = 0
    for r in named_rows(tree, "container_health"):
        skipped_lines += int(r["skipped"])
        if r["container_id"] is None or not r["records"]:
            continue
        rows.append(ContainerHealth(
            container_id=r["container_id"], records=int(r["records"]),
            warnings=int(r["warnings"]), errors=int(r["errors"]),
            components=int(r["components"]), first_activity=r["first_activity"],
            last_activity=r["last_activity"], bytes=sizes.get(r["container_id"], 0)))
    newest = max((r.last_activity for r in rows if r.last_activity), default=None)
    for row in rows:
        row.status = status_of(row, newest, t)
    pre = tree.opening_skipped(("logs", "system", "master"))
    return HealthReport(rows, t, pre, skipped_lines + pre.total)
