"""Event-scope detection from context keys (issue 2 point 2)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

import pytest

import logtool
from logtool import contract
from logtool.write.scope import detect_scope


class Tier(enum.Enum):
    FAST = "fast"


@pytest.mark.parametrize(
    ("context", "scope"),
    [
        ({}, "component_internal"),
        ({"strength": 1}, "component_internal"),
        ({"internal_scope": True}, "internal_bus"),
        ({"publish_tier": "fast"}, "external_fast_tier"),
        ({"publish_tier": "standard"}, "external_standard_tier"),
        ({"publish_tier": "reliable"}, "external_reliable_tier"),
        ({"publish_tier": Tier.FAST}, "external_fast_tier"),
        ({"publish_tier": "warp"}, "external_standard_tier"),
        ({"publish_tier": ["unhashable"]}, "external_standard_tier"),
        ({"event_flow": "internal"}, "internal_bus"),
        ({"event_flow": "external"}, "external_standard_tier"),
        ({"event_flow": "reliable"}, "external_reliable_tier"),
        ({"event_flow": "external_fast_tier"}, "external_fast_tier"),
        ({"event_flow": "sideways"}, "component_internal"),
        ({"event_flow": {"x": 1}}, "component_internal"),
        ({"lifecycle_operation": "rotate"}, "lifecycle_management"),
        ({"internal_scope": 1, "publish_tier": "fast"}, "internal_bus"),
    ],
)
def test_detect_scope(context: dict[str, Any], scope: str) -> None:
    """Each context shape maps to its scope, always one of contract.EVENT_SCOPES."""
    assert detect_scope(context) == scope
    assert scope in contract.EVENT_SCOPES


def test_records_carry_the_detected_scope(tree: Path, read: Any) -> None:
    """The logger writes the detected scope into event_scope."""
    log = logtool.get_logger("scope_c", "comp")
    log.info("a", internal_scope=True)
    log.info("b", publish_tier="reliable")
    log.info("c", lifecycle_operation="archive")
    log.info("d")
    assert [r["event_scope"] for r in read("containers/scope_c/comp.log")] == [
        "internal_bus", "external_reliable_tier", "lifecycle_management", "component_internal"]
