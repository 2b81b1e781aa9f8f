"""The error-code registry: codes like EXEC-001 with their severity, message and component."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Final

from logtool.contract import ERROR_SEVERITIES
from logtool.errors import BadInputError

# Prefix -> the component that owns the codes (seed 003's error code registry).
PREFIXES: Final = {
    "POS": "PositionMonitor",
    "EXP": "ExposureMonitor",
    "RISK": "RiskMonitor",
    "PNL": "PnLMonitor",
    "STRAT": "StrategyManager",
    "EXEC": "ExecutionManager",
    "VEN": "VenueInterfaceManager",
    "ENGINE": "EventDrivenStrategyEngine",
}
CODE_RE: Final = re.compile(r"^(?P<prefix>[A-Z]+)-(?P<number>\d{3,})$")


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One registered code: what it means, how bad it is, which component raises it."""

    code: str
    message: str
    severity: str
    component: str


_LOCK: Final = threading.Lock()
_REGISTRY: dict[str, ErrorCode] = {}


def register(code: str, message: str, severity: str, component: str | None = None,
             *, replace: bool = False) -> ErrorCode:
    """Add a code (PREFIX-NNN, a known prefix, a severity of ERROR_SEVERITIES).

    Raises BadInputError for a malformed code, unknown prefix or severity, or a code that is
    already registered with different details (unless replace=True).
    """
    match = CODE_RE.match(code) if isinstance(code, str) else None
    if match is None:
        raise BadInputError(f"error code {code!r} is not of the form PREFIX-NNN (e.g. EXEC-001)")
    prefix = match.group("prefix")
    if prefix not in PREFIXES:
        raise BadInputError(
            f"error code {code!r} has unknown prefix {prefix!r}; known: {', '.join(PREFIXES)}"
        )
    if severity not in ERROR_SEVERITIES:
        raise BadInputError(
            f"error code {code!r}: severity {severity!r} is not one of "
            f"{', '.join(ERROR_SEVERITIES)}"
        )
    entry = ErrorCode(code, str(message), severity, component or PREFIXES[prefix])
    with _LOCK:
        existing = _REGISTRY.get(code)
        if existing is not None and existing != entry and not replace:
            raise BadInputError(f"error code {code!r} is already registered as {existing}")
        _REGISTRY[code] = entry
    return entry


def lookup(code: str) -> ErrorCode | None:
    """The registered entry for code, or None."""
    return _REGISTRY.get(code)


def component_for(code: str) -> str | None:
    """The owning component of any well-formed code with a known prefix, registered or not."""
    match = CODE_RE.match(code) if isinstance(code, str) else None
    return PREFIXES.get(match.group("prefix")) if match else None


def all_codes() -> dict[str, ErrorCode]:
    """A copy of the registry."""
    with _LOCK:
        return dict(_REGISTRY)


for _code, _message, _severity in (
    ("EXEC-001", "Order execution failed", "HIGH"),
    ("EXEC-005", "Reconciliation timeout", "CRITICAL"),
    ("POS-005", "Position reconciliation mismatch", "CRITICAL"),
    ("RISK-001", "Risk limit breached", "HIGH"),
):
    register(_code, _message, _severity)
