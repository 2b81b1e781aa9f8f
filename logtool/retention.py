"""Retention of a log tree: archive, delete and size-cap planning and execution (prune and the manager)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetentionPolicy:
    """How long files live: archived after N days, archives deleted after M days, a size cap."""

    archive_after_days: float | None = 7
    delete_after_days: float | None = 30
    max_total_size_gb: float | None = None
    compression_enabled: bool = True
    # Files modified more recently than this are never touched: a writer may still hold them.
    min_age_minutes: float = 10
