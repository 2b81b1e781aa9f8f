"""Event-scope detection: which communication scope a record's context keys describe."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from logtool.contract import (
    EVENT_SCOPES,
    SCOPE_COMPONENT_INTERNAL,
    SCOPE_INTERNAL_BUS,
    SCOPE_LIFECYCLE,
    TIERS,
    tier_scope,
)

_TIER_SCOPES: Final = {tier: tier_scope(tier) for tier in TIERS}
# An unknown tier still crossed a container boundary; standard is the seed's default tier.
_DEFAULT_EXTERNAL: Final = tier_scope("standard")
_SCOPES: Final = frozenset(EVENT_SCOPES)


def _flow_scope(value: Any) -> str:
    """The scope named by an `event_flow` value: a scope name, a tier, internal or external."""
    value = getattr(value, "value", value)  # accept Enum members
    if not isinstance(value, str):
        return SCOPE_COMPONENT_INTERNAL
    if value in _SCOPES:
        return value
    if value in _TIER_SCOPES:
        return _TIER_SCOPES[value]
    if value == "internal":
        return SCOPE_INTERNAL_BUS
    if value == "external":
        return _DEFAULT_EXTERNAL
    return SCOPE_COMPONENT_INTERNAL


def detect_scope(context: Mapping[str, Any]) -> str:
    """The event_scope for a record whose context is `context` (always one of EVENT_SCOPES)."""
    if not context:
        return SCOPE_COMPONENT_INTERNAL
    if "internal_scope" in context:
        return SCOPE_INTERNAL_BUS
    if "publish_tier" in context:
        tier = context["publish_tier"]
        tier = getattr(tier, "value", tier)
        if isinstance(tier, str):
            return _TIER_SCOPES.get(tier, _DEFAULT_EXTERNAL)
        return _DEFAULT_EXTERNAL
    if "event_flow" in context:
        return _flow_scope(context["event_flow"])
    if "lifecycle_operation" in context:
        return SCOPE_LIFECYCLE
    return SCOPE_COMPONENT_INTERNAL
