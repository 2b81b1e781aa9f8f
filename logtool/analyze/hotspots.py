"""Error hotspots: top containers, components, messages and codes, and a time histogram."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from logtool.analyze.load import Skipped, Tree
from logtool.analyze.query import named_rows
from logtool.errors import BadInputError

# Histogram bucket widths to choose from: the smallest giving at most MAX_BUCKETS buckets.
_WIDTHS_S = (1, 5, 10, 30, 60, 300, 900, 1800, 3600, 6 * 3600, 86400, 7 * 86400)
MAX_BUCKETS = 40


@dataclass
class Bucket:
    """Errors in [start, start + width)."""

    start: datetime
    count: int


@dataclass
class Hotspots:
    """Top-N lists by dimension, the histogram and its bucket width."""

    total: int
    containers: list[tuple[str, int]]
    components: list[tuple[str, int]]
    messages: list[tuple[str, int]]
    codes: list[tuple[str, int]]
    histogram: list[Bucket]
    bucket_seconds: int
    skipped: Skipped = field(default_factory=Skipped)

    def to_json(self) -> dict[str, Any]:
        """{"total", "containers": [{"key", "count"}], ..., "histogram": [{"start", "count"}]}."""
        def pairs(items: list[tuple[str, int]]) -> list[dict[str, Any]]:
            return [{"key": k, "count": c} for k, c in items]

        return {
            "total": self.total, "containers": pairs(self.containers),
            "components": pairs(self.components), "messages": pairs(self.messages),
            "codes": pairs(self.codes), "bucket_seconds": self.bucket_seconds,
            "histogram": [{"start": b.start.isoformat() + "Z", "count": b.count}
                          for b in self.histogram],
            "skipped": self.skipped.total,
        }


def histogram(per_second: dict[datetime, int]) -> tuple[list[Bucket], int]:
    """Buckets covering first..last error second with the smallest width giving ≤ 40 buckets."""
    if not per_second:
        return [], 1
    first, last = min(per_second), max(per_second)
    span = (last - first).total_seconds() + 1
    width = next((w for w in _WIDTHS_S if span / w <= MAX_BUCKETS), _WIDTHS_S[-1])
    epoch = datetime(1970, 1, 1)
    start0 = epoch + timedelta(seconds=((first - epoch).total_seconds() // width) * width)
    counts: Counter[int] = Counter()
    for second, n in per_second.items():
        counts[int((second - start0).total_seconds() // width)] += n
    buckets = [Bucket(start0 + timedelta(seconds=i * width), counts.get(i, 0))
               for i in range(max(counts) + 1)]
    return buckets, width


def error_hotspots(tree: Tree, *, since: datetime | None = None, until: datetime | None = None,
                   top: int = 10) -> Hotspots:
    """ERROR/CRITICAL records by container, component, message and code within [since, until).

    Codes come from `context.error_code` of log records and from system_errors events; their
    counts are added.
    """
    if top < 1:
        raise BadInputError(f"--top must be at least 1, got {top}")
    if since is not None and until is not None and until <= since:
        raise BadInputError("--until must be after --since")
    params = {"since": since, "until": until}
    groups: dict[str, list[tuple[str, int]]] = {}
    per_second: dict[datetime, int] = {}
    for r in named_rows(tree, "error_hotspots", params):
        if r["dimension"] == "second":
            per_second[r["second"]] = int(r["count"])
        else:
            groups.setdefault(r["dimension"], []).append((r["key"], int(r["count"])))
    codes: Counter[str] = Counter(dict(groups.get("code", [])))
    for r in named_rows(tree, "error_codes_events", params):
        codes[r["code"]] += int(r["count"])
    buckets, width = histogram(per_second)

    def top_n(items: list[tuple[str, int]]) -> list[tuple[str, int]]:
        return sorted(items, key=lambda kv: (-kv[1], kv[0]))[:top]

    return Hotspots(
        total=sum(per_second.values()),
        containers=top_n(groups.get("container", [])),
        components=top_n(groups.get("component", [])),
        messages=top_n(groups.get("message", [])),
        codes=top_n(list(codes.items())),
        histogram=buckets, bucket_seconds=width,
        skipped=tree.skipped_in(["logs", "events_system_errors"]),
    )
