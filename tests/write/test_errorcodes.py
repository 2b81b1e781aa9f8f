"""The error-code registry: seed codes, prefixes, severities and register() validation."""

from __future__ import annotations

import pytest

from logtool.errors import BadInputError
from logtool.write import errorcodes


def test_seed_codes_are_registered() -> None:
    """EXEC-001, EXEC-005, POS-005 and RISK-001 come with the seed's severities."""
    assert errorcodes.lookup("EXEC-001") == errorcodes.ErrorCode(
        "EXEC-001", "Order execution failed", "HIGH", "ExecutionManager")
    assert errorcodes.lookup("EXEC-005").severity == "CRITICAL"  # type: ignore[union-attr]
    assert errorcodes.lookup("POS-005").severity == "CRITICAL"  # type: ignore[union-attr]
    assert errorcodes.lookup("RISK-001").component == "RiskMonitor"  # type: ignore[union-attr]
    assert errorcodes.lookup("NOPE-001") is None


def test_all_prefixes_are_known() -> None:
    """The eight seed prefixes map to their components."""
    assert set(errorcodes.PREFIXES) == {"POS", "EXP", "RISK", "PNL", "STRAT", "EXEC", "VEN",
                                         "ENGINE"}
    assert errorcodes.component_for("ENGINE-042") == "EventDrivenStrategyEngine"
    assert errorcodes.component_for("garbage") is None


def test_register_adds_a_code() -> None:
    """register() adds a code that lookup() and all_codes() return."""
    entry = errorcodes.register("VEN-101", "Venue API unreachable", "MEDIUM")
    assert entry.component == "VenueInterfaceManager"
    assert errorcodes.lookup("VEN-101") == entry
    assert "VEN-101" in errorcodes.all_codes()
    assert errorcodes.register("VEN-101", "Venue API unreachable", "MEDIUM") == entry


@pytest.mark.parametrize(
    ("code", "severity", "fragment"),
    [
        ("exec-1", "HIGH", "PREFIX-NNN"),
        ("FOO-001", "HIGH", "unknown prefix"),
        ("PNL-001", "SEVERE", "severity"),
        ("EXEC-001", "LOW", "already registered"),
    ],
)
def test_register_rejects_bad_input(code: str, severity: str, fragment: str) -> None:
    """Malformed codes, unknown prefixes/severities and conflicting duplicates are refused."""
    with pytest.raises(BadInputError, match=fragment):
        errorcodes.register(code, "m", severity)


def test_replace_overrides_a_registered_code() -> None:
    """replace=True changes an existing entry."""
    errorcodes.register("STRAT-007", "first", "LOW")
    errorcodes.register("STRAT-007", "second", "HIGH", replace=True)
    assert errorcodes.lookup("STRAT-007").message == "second"  # type: ignore[union-attr]
