"""Tier latency percentiles from flows (latency_ms, else publish → first record in target)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logtool.analyze.load import Skipped, Tree
from logtool.analyze.query import named_rows


@dataclass
class TierStats:
    """Latency of one tier (or one tier and route) in milliseconds."""

    tier: str
    count: int
    measured: int
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    source: str | None = None
    target: str | None = None

    def to_json(self) -> dict[str, Any]:
        """{"tier", "count", "p50_ms", "p90_ms", "p99_ms", "max_ms"} (+ route and measured)."""
        out: dict[str, Any] = {"tier": self.tier}
        if self.source is not None or self.target is not None:
            out.update(source=self.source, target=self.target)
        out.update(count=self.count, measured=self.measured, p50_ms=self.p50_ms,
                   p90_ms=self.p90_ms, p99_ms=self.p99_ms, max_ms=self.max_ms)
        return out


@dataclass
class TiersReport:
    """Rows and the lines skipped in flows and logs."""

    rows: list[TierStats]
    by_route: bool
    skipped: Skipped


def tier_latencies(tree: Tree, *, by_route: bool = False) -> TiersReport:
    """Per tier (or per tier and source → target) count, p50/p90/p99 (quantile_cont) and max."""
    # Joining flows with logs reads every log file; only pay for it when a flow needs it.
    derive = named_rows(tree, "flows_without_latency")[0]["n"] > 0
    rows = [
        TierStats(
            tier=r["tier"], count=int(r["count"]), measured=int(r["measured"]),
            p50_ms=r["p50_ms"], p90_ms=r["p90_ms"], p99_ms=r["p99_ms"], max_ms=r["max_ms"],
            source=r.get("source"), target=r.get("target"))
        for r in named_rows(tree, "tiers", {"derive": derive, "by_route": by_route})
    ]
    read = ["flows", "logs"] if derive else ["flows"]
    return TiersReport(rows, by_route, tree.skipped_in(read))
