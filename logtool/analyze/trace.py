"""The path of one correlation id across containers: visits, hops, errors, events (no DuckDB)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from logtool import contract
from logtool.analyze import scan
from logtool.analyze.tree import TreeFile, discover
from logtool.errors import BadInputError, NotFoundError

# Kinds whose lines can carry a correlation id that trace reports.
TRACE_KINDS = ("logs", "master", "flows", "correlations", "events")
SUGGESTIONS = 5
# A suggestion scan stops collecting lines of a file after this many (short prefixes match a lot).
_SUGGEST_MAX_LINES = 2_000
_SUGGEST_MAX_IDS = 20_000


@dataclass
class Record:
    """One verified line of the trace, with where it came from."""

    kind: str
    ts: datetime
    data: dict[str, Any]
    file: TreeFile
    offset: int

    @property
    def container(self) -> str | None:
        value = self.data.get("container_id")
        return value if isinstance(value, str) and value else self.file.container_hint


@dataclass
class TraceResult:
    """Everything `logtool trace` shows; to_json() is the documented --json shape."""

    correlation_id: str
    logs: list[Record]
    flows: list[Record]
    events: list[Record]
    correlations: list[Record]
    skipped: int = 0
    skipped_detail: list[dict[str, Any]] = field(default_factory=list)
    files_scanned: int = 0
    bytes_scanned: int = 0
    cache: dict[str, Any] | None = None

    def visits(self) -> list[dict[str, Any]]:
        """Maximal runs of time-ordered log records in one container."""
        runs: list[list[Record]] = []
        for rec in self.logs:
            if runs and runs[-1][0].container == rec.container:
                runs[-1].append(rec)
            else:
                runs.append([rec])
        return [
            {
                "container_id": run[0].container,
                "start": run[0].data["timestamp"],
                "end": run[-1].data["timestamp"],
                "duration_ms": _ms(run[0].ts, run[-1].ts),
                "records": len(run),
                "errors": sum(1 for r in run if _is_error(r)),
                "_first": run[0].ts,
                "_last": run[-1].ts,
            }
            for run in runs
        ]

    def hops(self, visits: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Container changes between consecutive visits, with latency and the flow's tier."""
        result = []
        for prev, nxt in itertools.pairwise(visits):
            flow = self._flow_for(prev["container_id"], nxt["container_id"], nxt["_first"])
            result.append(
                {
                    "from": prev["container_id"],
                    "to": nxt["container_id"],
                    "tier": flow.data.get("tier") if flow else None,
                    "latency_ms": _ms(prev["_last"], nxt["_first"]),
                    "flow_latency_ms": flow.data.get("latency_ms") if flow else None,
                }
            )
        return result

    def _flow_for(self, source: str | None, target: str | None, before: datetime) -> Record | None:
        """The flow record source→target: the last one published before the next visit began."""
        matching = [
            f for f in self.flows
            if f.data.get("source") == source and f.data.get("target") == target
        ]
        if not matching:
            return None
        earlier = [f for f in matching if f.ts <= before]
        return earlier[-1] if earlier else matching[0]

    def to_json(self) -> dict[str, Any]:
        """The --json document (keys beyond the issue's minimum are additive)."""
        visits = self.visits()
        hops = self.hops(visits)
        stamps = [r.ts for r in self.logs] or [
            r.ts for r in (*self.flows, *self.events, *self.correlations)
        ]
        total = _ms(min(stamps), max(stamps)) if stamps else 0.0
        errors = [r for r in self.logs if _is_error(r)]
        return {
            "correlation_id": self.correlation_id,
            "path": [v["container_id"] for v in visits],
            "visits": [{k: v for k, v in vis.items() if not k.startswith("_")} for vis in visits],
            "hops": hops,
            "total_ms": total,
            "records": len(self.logs),
            "errors": len(errors),
            "error_records": [_log_view(r) for r in errors],
            "entries": [_log_view(r) for r in self.logs],
            "flows": [_plain(r) for r in self.flows],
            "events": [{"event_type": r.file.event_type, **_plain(r)} for r in self.events],
            "correlations": [_plain(r) for r in self.correlations],
            "skipped": self.skipped,
            "skipped_detail": self.skipped_detail,
            "files_scanned": self.files_scanned,
            "bytes_scanned": self.bytes_scanned,
            "cache": self.cache,
        }


def _ms(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() * 1000.0, 3)


def _is_error(rec: Record) -> bool:
    return str(rec.data.get("level", "")).upper() in contract.ERROR_LEVELS


def _log_view(rec: Record) -> dict[str, Any]:
    return {
        "timestamp": rec.data.get("timestamp"),
        "container_id": rec.container,
        "component_name": rec.data.get("component_name") or rec.file.component_hint,
        "level": rec.data.get("level"),
        "message": rec.data.get("message"),
        "source_kind": rec.kind,
        "file": rec.file.rel,
    }


def _plain(rec: Record) -> dict[str, Any]:
    return {**rec.data, "file": rec.file.rel}


def parse_ts(value: object) -> datetime | None:
    """An ISO-8601 timestamp as an aware UTC datetime, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def check_id(correlation_id: str) -> str:
    """The id itself, or BadInputError when it cannot be a correlation id."""
    if not correlation_id or not correlation_id.strip():
        raise BadInputError("the correlation id is empty")
    if any(ord(c) < 32 for c in correlation_id):
        raise BadInputError(f"the correlation id {correlation_id!r} contains control characters")
    return correlation_id


def trace_files(path: Path, *, archived: bool = False) -> list[TreeFile]:
    """The files of the tree whose records take part in a trace."""
    return [f for f in discover(path, archived=archived) if f.kind in TRACE_KINDS]


def collect(correlation_id: str, files: Sequence[TreeFile], hits: Sequence[scan.Hit],
            unreadable: dict[int, str]) -> TraceResult:
    """Parse candidate lines, keep those whose own correlation_id field is the id, sort them."""
    result = TraceResult(correlation_id, [], [], [], [])
    master: list[Record] = []
    for hit in hits:
        tf = files[hit.file_index]
        try:
            data = orjson.loads(hit.line)
        except orjson.JSONDecodeError:
            _skip(result, tf, hit, "malformed JSON")
            continue
        if not isinstance(data, dict):
            _skip(result, tf, hit, "not a JSON object")
            continue
        if data.get("correlation_id") != correlation_id:
            continue  # the id appears elsewhere in the line (a message, a nested field)
        ts = parse_ts(data.get("timestamp"))
        if ts is None:
            _skip(result, tf, hit, "missing or invalid timestamp")
            continue
        rec = Record(tf.kind, ts, data, tf, hit.offset)
        if tf.kind == "logs":
            result.logs.append(rec)
        elif tf.kind == "master":
            master.append(rec)
        elif tf.kind == "flows":
            result.flows.append(rec)
        elif tf.kind == "events":
            result.events.append(rec)
        elif tf.kind == "correlations":
            result.correlations.append(rec)
    # master.log repeats container records: keep only those not already seen in containers/.
    seen = {_dedup_key(r) for r in result.logs}
    result.logs.extend(r for r in master if _dedup_key(r) not in seen)
    for index, reason in unreadable.items():
        result.skipped += 1
        result.skipped_detail.append({"file": files[index].rel, "line": None, "reason": reason})
    for records in (result.logs, result.flows, result.events, result.correlations):
        records.sort(key=lambda r: (r.ts, r.file.rel, r.offset))
    return result


def _dedup_key(rec: Record) -> tuple[Any, ...]:
    d = rec.data
    return (d.get("timestamp"), rec.container, d.get("level"), d.get("message"))


def _skip(result: TraceResult, tf: TreeFile, hit: scan.Hit, reason: str) -> None:
    result.skipped += 1
    where = scan.line_number(tf.path, tf.compressed, hit.offset)
    if hit.partial:
        reason += " (partial last line)"
    result.skipped_detail.append({"file": tf.rel, "line": where, "reason": reason})


def suggest(correlation_id: str, files: Sequence[TreeFile], known: Sequence[str] | None = None,
            *, workers: int | None = None) -> list[str]:
    """Ids that exist and look like correlation_id (difflib), found by byte-searching prefixes."""
    import difflib

    if known is not None:
        return difflib.get_close_matches(correlation_id, list(known), n=SUGGESTIONS, cutoff=0.5)
    from logtool.analyze.cache import decode_id

    tried: set[int] = set()
    for size in (max(4, len(correlation_id) * 2 // 3), max(3, len(correlation_id) // 3)):
        size = min(size, len(correlation_id))
        if size in tried:
            continue
        tried.add(size)
        prefix = correlation_id[:size]
        # A quote before the prefix: only JSON strings that start with it.
        found = scan.find_lines(files, [b'"' + prefix.encode("utf-8")], workers=workers,
                                max_hits_per_file=_SUGGEST_MAX_LINES)
        ids: set[str] = set()
        for hit in found.hits:
            for raw in scan.ID_FIELD_RE.findall(hit.line):
                cid = decode_id(raw)
                if cid is not None and cid != correlation_id and cid.startswith(prefix):
                    ids.add(cid)
                    if len(ids) >= _SUGGEST_MAX_IDS:
                        break
        matches = difflib.get_close_matches(correlation_id, sorted(ids), n=SUGGESTIONS, cutoff=0.5)
        if matches:
            return matches
    return []


def trace(path: Path, correlation_id: str, *, archived: bool = False, cache: bool = False,
          workers: int | None = None) -> TraceResult:
    """The trace of correlation_id in the tree at path; NotFoundError with suggestions if absent."""
    check_id(correlation_id)
    files = trace_files(path, archived=archived)
    if not files:
        raise NotFoundError(f"no log files found under {Path(path)}")
    known: list[str] | None = None
    if cache:
        from logtool.analyze import cache as cache_mod

        lookup = cache_mod.trace_lookup(Path(path), files, correlation_id)
        result = collect(correlation_id, files, lookup.hits, lookup.unreadable)
        result.cache = lookup.stats
        if not (result.logs or result.flows or result.events or result.correlations):
            known = cache_mod.ids_like(Path(path), correlation_id)
    else:
        found = scan.find_lines(files, scan.json_needles(correlation_id), workers=workers)
        result = collect(correlation_id, files, found.hits, found.unreadable)
    result.files_scanned = len(files)
    result.bytes_scanned = sum(f.size for f in files)
    if not (result.logs or result.flows or result.events or result.correlations):
        close = suggest(correlation_id, files, known, workers=workers)
        hint = ("Did you mean: " + ", ".join(close)) if close else "No similar ids in this tree."
        raise NotFoundError(
            f"correlation id {correlation_id!r} not found in {Path(path)}", hint=hint
        )
    return result
