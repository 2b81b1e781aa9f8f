"""Tree summary: containers, components, record counts by kind and level, span, tiers, disk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from logtool import contract
from logtool.analyze.load import Skipped, Tree
from logtool.analyze.query import named_rows


@dataclass
class Summary:
    """Everything `logtool summary` shows."""

    containers: dict[str, list[str]]
    records_by_kind: dict[str, int]
    records_by_level: dict[str, int]
    events_by_type: dict[str, int]
    first: datetime | None
    last: datetime | None
    tiers: list[str]
    disk: list[dict[str, Any]]
    skipped: Skipped

    @property
    def records(self) -> int:
        """All records over every kind."""
        return sum(self.records_by_kind.values())

    @property
    def bytes(self) -> int:
        """Bytes of every file read."""
        return sum(int(d["bytes"]) for d in self.disk)

    def to_json(self) -> dict[str, Any]:
        """A JSON object with every field; timestamps ISO-8601 UTC."""
        return {
            "containers": len(self.containers),
            "components": dict(self.containers),
            "records": self.records,
            "records_by_kind": self.records_by_kind,
            "records_by_level": self.records_by_level,
            "events_by_type": self.events_by_type,
            "first": None if self.first is None else self.first.isoformat() + "Z",
            "last": None if self.last is None else self.last.isoformat() + "Z",
            "tiers": self.tiers,
            "bytes": self.bytes,
            "disk": self.disk,
            "skipped": self.skipped.to_json(),
        }


def summarize(tree: Tree) -> Summary:
    """Counts over every view (one pass each); skipped lines over every file."""
    components: dict[str, set[str]] = {}
    by_kind: dict[str, int] = {}
    by_level: dict[str, int] = {}
    events: dict[str, int] = {}
    tiers: set[str] = set()
    firsts: list[datetime] = []
    lasts: list[datetime] = []
    for r in named_rows(tree, "summary_counts"):
        kind, sub, n = r["kind"], r["sub"], int(r["records"])
        label = "logs" if kind == "logs" and sub == "logs" else (
            sub if kind == "logs" else kind)
        by_kind[label] = by_kind.get(label, 0) + n
        if kind == "logs" and r["level"]:
            by_level[r["level"]] = by_level.get(r["level"], 0) + n
        if kind == "logs" and r["container_id"]:
            found = components.setdefault(r["container_id"], set())
            if r["component_name"]:
                found.add(r["component_name"])
        if kind == "events":
            events[sub] = events.get(sub, 0) + n
        if kind == "flows" and sub != "internal":
            tiers.add(sub)
        if r["first"] is not None:
            firsts.append(r["first"])
        if r["last"] is not None:
            lasts.append(r["last"])
    disk = [{"kind": r["kind"], "archived": bool(r["archived"]), "files": int(r["files"]),
             "bytes": int(r["bytes"])} for r in named_rows(tree, "summary_disk")]
    containers = {cid: sorted(comps) for cid, comps in sorted(components.items())}
    # Levels in severity order (unknown spellings after, alphabetically): a stable output.
    rank = {level: n for n, level in enumerate(contract.LEVELS)}
    by_level = dict(sorted(by_level.items(),
                           key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))
    return Summary(
        containers=containers, records_by_kind=by_kind, records_by_level=by_level,
        events_by_type=events, first=min(firsts, default=None), last=max(lasts, default=None),
        tiers=sorted(tiers), disk=disk, skipped=tree.skipped)
