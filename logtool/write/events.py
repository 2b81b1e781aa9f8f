"""DomainEventLogger: the twelve domain event types in events/<type>.jsonl, with typed helpers."""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from collections.abc import Mapping
from typing import Any, Final

from logtool.contract import EVENT_SCHEMAS, EVENTS_DIR, EVENTS_SUFFIX
from logtool.write import errorcodes, runtime
from logtool.write.context import CORRELATION_ID

_BASE_OVERRIDES: Final = ("correlation_id", "pid", "real_utc_time")
# Schema fields that default to an empty object rather than null (as in the seed's examples).
_OBJECT_DEFAULTS: Final = frozenset({"metadata"})


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)  # naive business times are taken as UTC
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def business_time(value: Any, clock: Any) -> Any:
    """A caller's timestamp as the tree writes it: epoch float (sink formats) or ISO-8601 Z.

    None means now (the configured clock); datetimes and ISO strings are normalized to UTC
    with microseconds; an unparsable value is kept as given and counted (bad_timestamps).
    """
    if value is None:
        return clock()
    if isinstance(value, bool):
        runtime.count("bad_timestamps")
        return repr(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return _iso(value)
    if isinstance(value, dt.date):
        return _iso(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC))
    if isinstance(value, str):
        try:
            return _iso(dt.datetime.fromisoformat(value))
        except ValueError:
            runtime.count("bad_timestamps")
            return value
    runtime.count("bad_timestamps")
    return repr(value)


class DomainEventLogger:
    """Writes domain events as JSON lines under <log_dir>/events/ (default: the tree root).

    Every record starts with timestamp (business/engine time given by the caller, else the
    clock), real_utc_time (the configured clock), correlation_id (per call, else the active
    one, else this logger's default) and pid, followed by the event's schema fields.
    """

    def __init__(self, log_dir: str | os.PathLike[str] | None = None,
                 correlation_id: str | None = None, pid: int | None = None) -> None:
        self._correlation_id = correlation_id
        self._pid = pid
        self._relpaths: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self._submit: runtime.SubmitFn
        try:
            if log_dir is None:
                self._submit, prefix = runtime._main_submit, ""
            else:
                self._submit, prefix = runtime.submitter_for(log_dir)
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("DomainEventLogger", exc)
            self._submit, prefix = runtime._main_submit, ""
        self._prefix = f"{prefix}{EVENTS_DIR}/"

    @property
    def default_correlation_id(self) -> str | None:
        """The id used when neither the call nor the context gives one."""
        return self._correlation_id

    def relpath(self, event_type: str) -> str:
        """The file (relative to its sink's root) that events of event_type go to."""
        path = self._relpaths.get(event_type)
        if path is None:
            path = f"{self._prefix}{runtime.path_part(event_type)}{EVENTS_SUFFIX}"
            self._relpaths[event_type] = path
        return path

    def log(self, event_type: str, data: Mapping[str, Any] | None = None, /, *,
            timestamp: Any = None, correlation_id: str | None = None, **fields: Any) -> None:
        """Write one event: schema fields default to null ({} for metadata), extras are kept."""
        try:
            values: dict[str, Any] = dict(data) if data else {}
            if fields:
                values.update(fields)
            if timestamp is None:
                timestamp = values.pop("timestamp", None)
            else:
                values.pop("timestamp", None)
            st = runtime._STATE
            cid = correlation_id or values.pop("correlation_id", None) or CORRELATION_ID.get() \
                or self._correlation_id
            record: dict[str, Any] = {
                "timestamp": business_time(timestamp, st.clock),
                "real_utc_time": values.pop("real_utc_time", None) or st.clock(),
                "correlation_id": cid,
                "pid": values.pop("pid", None) or (self._pid if self._pid is not None
                                                   else os.getpid()),
            }
            schema = EVENT_SCHEMAS.get(event_type)
            if schema is not None:
                for name in schema:
                    record[name] = values.pop(name, {} if name in _OBJECT_DEFAULTS else None)
            record.update(values)
            self._submit(self.relpath(event_type), record, None)
            self.counts[event_type] = self.counts.get(event_type, 0) + 1
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("DomainEventLogger.log", exc)

    # ------------------------------------------------------------ typed helpers (one per type)
    def log_position_snapshot(self, *, positions: Mapping[str, Any] | None = None,
                              total_value_usd: float | None = None,
                              position_type: str | None = None, trigger_source: str | None = None,
                              metadata: Mapping[str, Any] | None = None, timestamp: Any = None,
                              correlation_id: str | None = None, **extra: Any) -> None:
        """events/positions.jsonl: a position snapshot."""
        self.log("positions", timestamp=timestamp, correlation_id=correlation_id,
                 positions=positions, total_value_usd=total_value_usd, position_type=position_type,
                 trigger_source=trigger_source, metadata=metadata or {}, **extra)

    def log_exposure_snapshot(self, *, net_delta_usd: float | None = None,
                              asset_exposures: Mapping[str, Any] | None = None,
                              total_value_usd: float | None = None,
                              share_class_value: float | None = None,
                              metadata: Mapping[str, Any] | None = None, timestamp: Any = None,
                              correlation_id: str | None = None, **extra: Any) -> None:
        """events/exposures.jsonl: an exposure snapshot."""
        self.log("exposures", timestamp=timestamp, correlation_id=correlation_id,
                 net_delta_usd=net_delta_usd, asset_exposures=asset_exposures,
                 total_value_usd=total_value_usd, share_class_value=share_class_value,
                 metadata=metadata or {}, **extra)

    def log_risk_assessment(self, *, health_factor: float | None = None,
                            ltv_ratio: float | None = None,
                            liquidation_threshold: float | None = None,
                            margin_usage: float | None = None, risk_score: float | None = None,
                            risk_level: str | None = None, breach_detected: bool | None = None,
                            metadata: Mapping[str, Any] | None = None, timestamp: Any = None,
                            correlation_id: str | None = None, **extra: Any) -> None:
        """events/risk_assessments.jsonl: a risk calculation."""
        self.log("risk_assessments", timestamp=timestamp, correlation_id=correlation_id,
                 health_factor=health_factor, ltv_ratio=ltv_ratio,
                 liquidation_threshold=liquidation_threshold, margin_usage=margin_usage,
                 risk_score=risk_score, risk_level=risk_level, breach_detected=breach_detected,
                 metadata=metadata or {}, **extra)

    def log_pnl_calculation(self, *, total_pnl_usd: float | None = None,
                            total_pnl_share_class: float | None = None,
                            pnl_attribution: Mapping[str, Any] | None = None,
                            period_start: Any = None, period_end: Any = None,
                            metadata: Mapping[str, Any] | None = None, timestamp: Any = None,
                            correlation_id: str | None = None, **extra: Any) -> None:
        """events/pnl_calculations.jsonl: a P&L calculation over a period."""
        st = runtime._STATE
        self.log("pnl_calculations", timestamp=timestamp, correlation_id=correlation_id,
                 total_pnl_usd=total_pnl_usd, total_pnl_share_class=total_pnl_share_class,
                 pnl_attribution=pnl_attribution,
                 period_start=None if period_start is None else _as_text_time(period_start, st),
                 period_end=None if period_end is None else _as_text_time(period_end, st),
                 metadata=metadata or {}, **extra)

    def log_strategy_decision(self, *, strategy_name: str | None = None,
                              decision_type: str | None = None,
                              orders_generated: int | None = None,
                              total_order_value_usd: float | None = None,
                              decision_reason: str | None = None,
                              metadata: Mapping[str, Any] | None = None, timestamp: Any = None,
                              correlation_id: str | None = None, **extra: Any) -> None:
        """events/strategy_decisions.jsonl: a strategy decision."""
        self.log("strategy_decisions", timestamp=timestamp, correlation_id=correlation_id,
                 strategy_name=strategy_name, decision_type=decision_type,
                 orders_generated=orders_generated, total_order_value_usd=total_order_value_usd,
                 decision_reason=decision_reason, metadata=metadata or {}, **extra)

    def log_operation_execution(self, *, operation_id: str | None = None,
                                operation_type: str | None = None, venue: str | None = None,
                                source_token: str | None = None, target_token: str | None = None,
                                status: str | None = None, expected_deltas: Any = None,
                                actual_deltas: Any = None, fee_amount: float | None = None,
                                fee_currency: str | None = None,
                                execution_duration_ms: float | None = None,
                                simulated: bool | None = None, error_code: str | None = None,
                                error_message: str | None = None, timestamp: Any = None,
                                correlation_id: str | None = None, **extra: Any) -> None:
        """events/operation_executions.jsonl: one executed operation (supply, trade, ...)."""
        if error_code and error_message is None:
            known = errorcodes.lookup(error_code)
            error_message = known.message if known else None
        self.log("operation_executions", timestamp=timestamp, correlation_id=correlation_id,
                 operation_id=operation_id, operation_type=operation_type, venue=venue,
                 source_token=source_token, target_token=target_token, status=status,
                 expected_deltas=expected_deltas, actual_deltas=actual_deltas,
                 fee_amount=fee_amount, fee_currency=fee_currency,
                 execution_duration_ms=execution_duration_ms, simulated=simulated,
                 error_code=error_code, error_message=error_message, **extra)

    def log_atomic_group(self, *, atomic_group_id: str | None = None,
                         operation_ids: list[str] | None = None,
                         operation_types: list[str] | None = None,
                         all_succeeded: bool | None = None, rollback_occurred: bool | None = None,
                         total_duration_ms: float | None = None, timestamp: Any = None,
                         correlation_id: str | None = None, **extra: Any) -> None:
        """events/atomic_groups.jsonl: operations executed all-or-nothing."""
        self.log("atomic_groups", timestamp=timestamp, correlation_id=correlation_id,
                 atomic_group_id=atomic_group_id, operation_ids=operation_ids,
                 operation_types=operation_types, all_succeeded=all_succeeded,
                 rollback_occurred=rollback_occurred, total_duration_ms=total_duration_ms,
                 **extra)

    def log_tight_loop(self, *, operation_id: str | None = None,
                       execution_success: bool | None = None,
                       reconciliation_success: bool | None = None, retry_count: int | None = None,
                       total_duration_ms: float | None = None,
                       execution_duration_ms: float | None = None,
                       reconciliation_duration_ms: float | None = None, timestamp: Any = None,
                       correlation_id: str | None = None, **extra: Any) -> None:
        """events/tight_loop.jsonl: one execute-then-reconcile cycle."""
        self.log("tight_loop", timestamp=timestamp, correlation_id=correlation_id,
                 operation_id=operation_id, execution_success=execution_success,
                 reconciliation_success=reconciliation_success, retry_count=retry_count,
                 total_duration_ms=total_duration_ms, execution_duration_ms=execution_duration_ms,
                 reconciliation_duration_ms=reconciliation_duration_ms, **extra)

    def log_reconciliation(self, *, reconciliation_type: str | None = None,
                           trigger_source: str | None = None,
                           reconciliation_success: bool | None = None,
                           expected_deltas_count: int | None = None,
                           actual_deltas_count: int | None = None,
                           reconciliation_duration_ms: float | None = None,
                           metadata: Mapping[str, Any] | None = None, timestamp: Any = None,
                           correlation_id: str | None = None, **extra: Any) -> None:
        """events/reconciliation.jsonl: expected vs. actual deltas after execution."""
        self.log("reconciliation", timestamp=timestamp, correlation_id=correlation_id,
                 reconciliation_type=reconciliation_type, trigger_source=trigger_source,
                 reconciliation_success=reconciliation_success,
                 expected_deltas_count=expected_deltas_count,
                 actual_deltas_count=actual_deltas_count,
                 reconciliation_duration_ms=reconciliation_duration_ms, metadata=metadata or {},
                 **extra)

    def log_execution_delta(self, *, delta_type: str | None = None,
                            trigger_source: str | None = None, deltas_applied: int | None = None,
                            total_delta_value_usd: float | None = None,
                            metadata: Mapping[str, Any] | None = None, timestamp: Any = None,
                            correlation_id: str | None = None, **extra: Any) -> None:
        """events/execution_deltas.jsonl: deltas applied to positions."""
        self.log("execution_deltas", timestamp=timestamp, correlation_id=correlation_id,
                 delta_type=delta_type, trigger_source=trigger_source,
                 deltas_applied=deltas_applied, total_delta_value_usd=total_delta_value_usd,
                 metadata=metadata or {}, **extra)

    def log_health_status(self, *, overall_status: str | None = None,
                          component_statuses: Mapping[str, Any] | None = None,
                          health_score: float | None = None,
                          metadata: Mapping[str, Any] | None = None, timestamp: Any = None,
                          correlation_id: str | None = None, **extra: Any) -> None:
        """events/health_status.jsonl: a health check result."""
        self.log("health_status", timestamp=timestamp, correlation_id=correlation_id,
                 overall_status=overall_status, component_statuses=component_statuses,
                 health_score=health_score, metadata=metadata or {}, **extra)

    def log_system_error(self, error_code: str, error_message: str | None = None, *,
                         component: str | None = None, severity: str | None = None,
                         stack_trace: str | None = None,
                         metadata: Mapping[str, Any] | None = None, timestamp: Any = None,
                         correlation_id: str | None = None, **extra: Any) -> None:
        """events/system_errors.jsonl; message, severity and component come from the registry
        when not given, and stack_trace from the exception being handled, if any."""
        try:
            known = errorcodes.lookup(error_code)
            if error_message is None:
                error_message = known.message if known else None
            if severity is None:
                severity = known.severity if known else None
            if component is None:
                component = known.component if known else errorcodes.component_for(error_code)
            if stack_trace is None and sys.exc_info()[0] is not None:
                stack_trace = traceback.format_exc()
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("log_system_error", exc)
        self.log("system_errors", timestamp=timestamp, correlation_id=correlation_id,
                 error_code=error_code, error_message=error_message, component=component,
                 severity=severity, stack_trace=stack_trace, metadata=metadata or {}, **extra)

    def __repr__(self) -> str:
        return f"DomainEventLogger(prefix={self._prefix!r})"


def _as_text_time(value: Any, st: Any) -> Any:
    """Period bounds are VARCHAR columns: floats are rendered here rather than by the sink."""
    out = business_time(value, st.clock)
    if isinstance(out, float):
        return _iso(dt.datetime.fromtimestamp(out, dt.UTC))
    return out


# Helper name per event type (the docs and tests use this to prove all twelve exist).
HELPERS: Final = {
    "positions": "log_position_snapshot",
    "exposures": "log_exposure_snapshot",
    "risk_assessments": "log_risk_assessment",
    "pnl_calculations": "log_pnl_calculation",
    "strategy_decisions": "log_strategy_decision",
    "operation_executions": "log_operation_execution",
    "atomic_groups": "log_atomic_group",
    "tight_loop": "log_tight_loop",
    "reconciliation": "log_reconciliation",
    "execution_deltas": "log_execution_delta",
    "health_status": "log_health_status",
    "system_errors": "log_system_error",
}
