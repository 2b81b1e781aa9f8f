"""Record formatting shared by the console and file backends: time, one text line, one JSON line."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson


def iso_time(value: Any) -> str:
    """The record's timestamp as ISO-8601 UTC with microseconds; epoch floats are converted."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, str):
        return value
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _compact(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def text_line(record: Mapping[str, Any]) -> str:
    """One human-readable line: time, level or kind, where, what, then context/tags as JSON."""
    kind = record.get("kind", "text")
    where = "/".join(str(record[k]) for k in ("container_id", "component_name") if record.get(k))
    head = f"{iso_time(record.get('timestamp'))} "
    if kind == "text":
        head += f"{record.get('level', 'INFO'):<8} {where}: {record.get('message', '')}"
    elif kind == "audit":
        head += f"AUDIT    {where}: {record.get('name') or record.get('event', '')}"
    else:
        head += f"{kind.upper():<8} {where}: {record.get('name', '')}={record.get('value')}"
    extras = {k: record[k] for k in ("tags", "context") if record.get(k)}
    if record.get("correlation_id"):
        extras["correlation_id"] = record["correlation_id"]
    return f"{head} | {_compact(extras)}" if extras else head


def json_line(record: Mapping[str, Any]) -> str:
    """The record as one JSON object, timestamp normalized to ISO-8601."""
    out = dict(record)
    out["timestamp"] = iso_time(record.get("timestamp"))
    return _compact(out)
