"""The on-disk contract shared by writer and analyzer: layout, field names, types, version."""

from __future__ import annotations

import re
from typing import Final

# Bumped when a field changes meaning or a required field is added; readers refuse newer trees.
FORMAT_VERSION: Final = 1

# A small JSON file at the tree root:
# {"format_version": 1, "created": "<iso>", "writer": "logtool x.y"}.
TREE_MARKER: Final = "logtool.json"

# ---------------------------------------------------------------- layout
CONTAINERS_DIR: Final = "containers"  # containers/<container_id>/<component>.log
FLOWS_DIR: Final = "flows"  # flows/<coordinator_id>_event_flows.log
FLOWS_SUFFIX: Final = "_event_flows"
CORRELATIONS_DIR: Final = "correlations"  # correlations/<topic>_correlations.log
CORRELATIONS_SUFFIX: Final = "_correlations"
EVENTS_DIR: Final = "events"  # events/<event_type>.jsonl
SYSTEM_DIR: Final = "system"  # system/<name>.log
METRICS_DIR: Final = "metrics"  # metrics/<container_id>.log: metric, counter, latency, audit
ARCHIVED_DIR: Final = "archived"  # archived/<YYYY-MM-DD>/<relative path>.gz
MASTER_LOG: Final = "master.log"
RUN_METADATA: Final = "run_metadata.json"  # <root>/<run_id>/<pid>/run_metadata.json

LOG_SUFFIX: Final = ".log"
EVENTS_SUFFIX: Final = ".jsonl"
GZIP_SUFFIX: Final = ".gz"
# Rotated files: <name>.<YYYYmmddTHHMMSS>[-N].log (or .jsonl), optionally .gz
ROTATION_STAMP_FORMAT: Final = "%Y%m%dT%H%M%S"
ROTATED_NAME_RE: Final = re.compile(
    r"^(?P<stem>.+)\.(?P<stamp>\d{8}T\d{6})(?:-(?P<seq>\d+))?(?P<ext>\.log|\.jsonl)(?:\.gz)?$"
)

# ---------------------------------------------------------------- vocabularies
LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LEVEL_NUMBERS: Final = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
ERROR_LEVELS: Final = ("ERROR", "CRITICAL")

TIERS: Final = ("fast", "standard", "reliable")
FLOW_TYPES: Final = ("internal", "external")

SCOPE_INTERNAL_BUS: Final = "internal_bus"
SCOPE_COMPONENT_INTERNAL: Final = "component_internal"
SCOPE_LIFECYCLE: Final = "lifecycle_management"
EVENT_SCOPES: Final = (
    SCOPE_INTERNAL_BUS,
    "external_fast_tier",
    "external_standard_tier",
    "external_reliable_tier",
    SCOPE_COMPONENT_INTERNAL,
    SCOPE_LIFECYCLE,
)


def tier_scope(tier: str) -> str:
    """The event_scope of a record published on an external tier."""
    return f"external_{tier}_tier"


CORRELATION_TOPICS: Final = ("trade", "signal", "error")

METRIC_RECORD_TYPES: Final = ("metric", "counter", "latency", "audit")

ERROR_SEVERITIES: Final = ("CRITICAL", "HIGH", "MEDIUM", "LOW")

# ---------------------------------------------------------------- fields
# Time fields are ISO-8601 UTC with microseconds and a Z: 2026-11-21T10:30:01.123456Z
TIME_FIELDS: Final = ("timestamp", "real_utc_time")

LOG_FIELDS: Final = (
    "timestamp",
    "level",
    "container_id",
    "component_name",
    "message",
    "event_scope",
    "correlation_id",
    "context",
)
FLOW_FIELDS: Final = (
    "timestamp",
    "event_id",
    "correlation_id",
    "source",
    "target",
    "flow_type",
    "tier",
    "container_id",
)
FLOW_OPTIONAL_FIELDS: Final = ("latency_ms", "event_type", "context")
CORRELATION_FIELDS: Final = (
    "timestamp",
    "correlation_id",
    "container_id",
    "component_name",
    "message",
)
CORRELATION_OPTIONAL_FIELDS: Final = ("topic", "level", "context")
METRIC_FIELDS: Final = (
    "timestamp",
    "record_type",
    "container_id",
    "component_name",
    "name",
)
METRIC_OPTIONAL_FIELDS: Final = ("value", "tags", "correlation_id", "context")
EVENT_BASE_FIELDS: Final = ("timestamp", "real_utc_time", "correlation_id", "pid")

# DuckDB column types for explicit-schema reads (strings only: the writer never imports duckdb).
# JSON-typed columns keep nested values queryable with DuckDB's JSON functions.
LOG_COLUMNS: Final = {
    "timestamp": "VARCHAR",
    "level": "VARCHAR",
    "container_id": "VARCHAR",
    "component_name": "VARCHAR",
    "message": "VARCHAR",
    "event_scope": "VARCHAR",
    "correlation_id": "VARCHAR",
    "context": "JSON",
}
FLOW_COLUMNS: Final = {
    "timestamp": "VARCHAR",
    "event_id": "VARCHAR",
    "correlation_id": "VARCHAR",
    "source": "VARCHAR",
    "target": "VARCHAR",
    "flow_type": "VARCHAR",
    "tier": "VARCHAR",
    "container_id": "VARCHAR",
    "latency_ms": "DOUBLE",
    "event_type": "VARCHAR",
    "context": "JSON",
}
CORRELATION_COLUMNS: Final = {
    "timestamp": "VARCHAR",
    "correlation_id": "VARCHAR",
    "container_id": "VARCHAR",
    "component_name": "VARCHAR",
    "message": "VARCHAR",
    "topic": "VARCHAR",
    "level": "VARCHAR",
    "context": "JSON",
}
METRIC_COLUMNS: Final = {
    "timestamp": "VARCHAR",
    "record_type": "VARCHAR",
    "container_id": "VARCHAR",
    "component_name": "VARCHAR",
    "name": "VARCHAR",
    "value": "DOUBLE",
    "tags": "JSON",
    "correlation_id": "VARCHAR",
    "context": "JSON",
}
EVENT_BASE_COLUMNS: Final = {
    "timestamp": "VARCHAR",
    "real_utc_time": "VARCHAR",
    "correlation_id": "VARCHAR",
    "pid": "BIGINT",
}

# The twelve domain event types: file events/<name>.jsonl, own fields after the base fields.
EVENT_SCHEMAS: Final[dict[str, dict[str, str]]] = {
    "positions": {
        "positions": "JSON",
        "total_value_usd": "DOUBLE",
        "position_type": "VARCHAR",
        "trigger_source": "VARCHAR",
        "metadata": "JSON",
    },
    "exposures": {
        "net_delta_usd": "DOUBLE",
        "asset_exposures": "JSON",
        "total_value_usd": "DOUBLE",
        "share_class_value": "DOUBLE",
        "metadata": "JSON",
    },
    "risk_assessments": {
        "health_factor": "DOUBLE",
        "ltv_ratio": "DOUBLE",
        "liquidation_threshold": "DOUBLE",
        "margin_usage": "DOUBLE",
        "risk_score": "DOUBLE",
        "risk_level": "VARCHAR",
        "breach_detected": "BOOLEAN",
        "metadata": "JSON",
    },
    "pnl_calculations": {
        "total_pnl_usd": "DOUBLE",
        "total_pnl_share_class": "DOUBLE",
        "pnl_attribution": "JSON",
        "period_start": "VARCHAR",
        "period_end": "VARCHAR",
        "metadata": "JSON",
    },
    "strategy_decisions": {
        "strategy_name": "VARCHAR",
        "decision_type": "VARCHAR",
        "orders_generated": "BIGINT",
        "total_order_value_usd": "DOUBLE",
        "decision_reason": "VARCHAR",
        "metadata": "JSON",
    },
    "operation_executions": {
        "operation_id": "VARCHAR",
        "operation_type": "VARCHAR",
        "venue": "VARCHAR",
        "source_token": "VARCHAR",
        "target_token": "VARCHAR",
        "status": "VARCHAR",
        "expected_deltas": "JSON",
        "actual_deltas": "JSON",
        "fee_amount": "DOUBLE",
        "fee_currency": "VARCHAR",
        "execution_duration_ms": "DOUBLE",
        "simulated": "BOOLEAN",
        "error_code": "VARCHAR",
        "error_message": "VARCHAR",
    },
    "atomic_groups": {
        "atomic_group_id": "VARCHAR",
        "operation_ids": "JSON",
        "operation_types": "JSON",
        "all_succeeded": "BOOLEAN",
        "rollback_occurred": "BOOLEAN",
        "total_duration_ms": "DOUBLE",
    },
    "tight_loop": {
        "operation_id": "VARCHAR",
        "execution_success": "BOOLEAN",
        "reconciliation_success": "BOOLEAN",
        "retry_count": "BIGINT",
        "total_duration_ms": "DOUBLE",
        "execution_duration_ms": "DOUBLE",
        "reconciliation_duration_ms": "DOUBLE",
    },
    "reconciliation": {
        "reconciliation_type": "VARCHAR",
        "trigger_source": "VARCHAR",
        "reconciliation_success": "BOOLEAN",
        "expected_deltas_count": "BIGINT",
        "actual_deltas_count": "BIGINT",
        "reconciliation_duration_ms": "DOUBLE",
        "metadata": "JSON",
    },
    "execution_deltas": {
        "delta_type": "VARCHAR",
        "trigger_source": "VARCHAR",
        "deltas_applied": "BIGINT",
        "total_delta_value_usd": "DOUBLE",
        "metadata": "JSON",
    },
    "health_status": {
        "overall_status": "VARCHAR",
        "component_statuses": "JSON",
        "health_score": "DOUBLE",
        "metadata": "JSON",
    },
    "system_errors": {
        "error_code": "VARCHAR",
        "error_message": "VARCHAR",
        "component": "VARCHAR",
        "severity": "VARCHAR",
        "stack_trace": "VARCHAR",
        "metadata": "JSON",
    },
}
EVENT_TYPES: Final = tuple(EVENT_SCHEMAS)

# ---------------------------------------------------------------- path parts
# Container ids, component names, coordinator ids, run ids, topics and event types become
# file or directory names. A valid part is 1-128 characters of [A-Za-z0-9._-], not starting
# with a dot; anything else is refused by validate_path_part or escaped by escape_path_part.
PATH_PART_RE: Final = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")
_ESCAPE_RE: Final = re.compile(r"[^A-Za-z0-9._-]")


def is_valid_path_part(value: object) -> bool:
    """Whether value can be used as one path component as it is."""
    return isinstance(value, str) and PATH_PART_RE.match(value) is not None


def escape_path_part(value: object) -> str:
    """A safe, deterministic path component for any value (%XX for bytes outside the set)."""
    text = value if isinstance(value, str) else repr(value)
    if PATH_PART_RE.match(text):
        return text
    escaped = _ESCAPE_RE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), text)
    if escaped.startswith("."):
        escaped = "%2E" + escaped[1:]
    if not escaped:
        escaped = "%00empty"
    return escaped[:128]
