"""LoggingHandler: stdlib and third-party records land in the tree (point 10)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import logtool
from logtool import contract

FILE = "containers/lib_c/third_party.log"


@pytest.fixture
def vendor_logger(tree: Path) -> Iterator[logging.Logger]:
    """A logger named like a third-party library's, bridged into the tree."""
    logger = logging.getLogger("urllib3.connectionpool")
    handler = logtool.LoggingHandler("lib_c", "third_party")
    logger.addHandler(handler)
    old_level, old_propagate = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger
    logger.removeHandler(handler)
    logger.setLevel(old_level)
    logger.propagate = old_propagate


def test_records_land_with_mapped_level_and_context(vendor_logger: logging.Logger,
                                                    read: Any) -> None:
    """Message args are formatted, levels mapped, the stdlib source kept in context."""
    vendor_logger.info("Starting new HTTPS connection (%d): %s", 1, "api.venue.io")
    vendor_logger.warning("Retrying", extra={"attempt": 2, "host": "api.venue.io"})
    vendor_logger.log(15, "between debug and info")
    vendor_logger.log(logging.CRITICAL + 5, "beyond critical")
    recs = read(FILE)
    assert [r["level"] for r in recs] == ["INFO", "WARNING", "INFO", "CRITICAL"]
    first = recs[0]
    assert tuple(first) == contract.LOG_FIELDS
    assert first["message"] == "Starting new HTTPS connection (1): api.venue.io"
    assert first["container_id"] == "lib_c" and first["component_name"] == "third_party"
    assert first["context"]["logger"] == "urllib3.connectionpool"
    assert first["context"]["function"] == "test_records_land_with_mapped_level_and_context"
    assert isinstance(first["context"]["line"], int)
    assert recs[1]["context"]["attempt"] == 2 and recs[1]["context"]["host"] == "api.venue.io"


def test_active_correlation_id_and_error_correlations(vendor_logger: logging.Logger,
                                                      read: Any) -> None:
    """The caller's correlation id is on the record; errors reach error_correlations."""
    with logtool.correlation("trade_lib"):
        vendor_logger.error("Connection reset")
    (rec,) = read(FILE)
    assert rec["correlation_id"] == "trade_lib"
    assert [r["message"] for r in read("correlations/error_correlations.log")] == [
        "Connection reset"]


def test_exc_info_is_formatted_into_context(vendor_logger: logging.Logger, read: Any) -> None:
    """logger.exception puts the formatted traceback in context['traceback']."""
    empty: dict[str, int] = {}
    try:
        empty["missing"]
    except KeyError:
        vendor_logger.exception("lookup failed")
    (rec,) = read(FILE)
    assert rec["level"] == "ERROR"
    assert "KeyError: 'missing'" in rec["context"]["traceback"]


def test_tree_level_threshold_applies(vendor_logger: logging.Logger, read: Any,
                                      tree: Path) -> None:
    """The writer's own level for the container still filters bridged records."""
    logtool.set_level("WARNING", container_id="lib_c")
    vendor_logger.info("filtered")
    vendor_logger.warning("kept")
    assert [r["message"] for r in read(FILE)] == ["kept"]


def test_bad_record_never_raises(vendor_logger: logging.Logger, read: Any) -> None:
    """A record whose message cannot be formatted is counted, not raised or printed."""
    handler = next(h for h in vendor_logger.handlers if isinstance(h, logtool.LoggingHandler))
    bad = vendor_logger.makeRecord(vendor_logger.name, logging.INFO, __file__, 1,
                                   "needs %d args %d", (1,), None)
    handler.handle(bad)
    vendor_logger.info("fine")
    assert [r["message"] for r in read(FILE)] == ["fine"]
    assert logtool.stats()["api_errors"] == 1
