"""The runtime-checkable protocols and which writer objects satisfy them (point 8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import logtool
from logtool.write import protocols

ALL = (protocols.Loggable, protocols.EventTrackable, protocols.ContainerAware,
       protocols.CorrelationAware, protocols.Debuggable, protocols.LifecycleManaged)


class MyComponent:
    """A user's own class implementing protocols structurally, with no base class."""

    container_id = "mine"
    component_name = "own"

    def log(self, level: str, message: str, /, **context: Any) -> None:
        self.last = (level, message)

    def initialize(self) -> None:
        self.ready = True

    def cleanup(self) -> None:
        self.ready = False

    def get_status(self) -> dict[str, Any]:
        return {"ready": getattr(self, "ready", False)}


def test_protocols_are_runtime_checkable_and_exported() -> None:
    """Every protocol is exported from logtool and usable with isinstance."""
    for proto in ALL:
        assert getattr(logtool, proto.__name__) is proto
        assert not isinstance(object(), proto)


def test_structural_user_class_matches_without_inheritance() -> None:
    """A class with the right methods is Loggable/ContainerAware/LifecycleManaged as is."""
    comp = MyComponent()
    assert isinstance(comp, logtool.Loggable)
    assert isinstance(comp, logtool.ContainerAware)
    assert isinstance(comp, logtool.LifecycleManaged)
    assert not isinstance(comp, logtool.EventTrackable)


def test_writer_objects_satisfy_the_relevant_protocols(tree: Path) -> None:
    """Loggers, tracers, run logs and add_logging results each satisfy their protocols."""
    log = logtool.get_logger("proto_all", "c")
    expectations: list[tuple[object, tuple[type, ...]]] = [
        (log, (logtool.Loggable, logtool.EventTrackable, logtool.ContainerAware,
               logtool.CorrelationAware, logtool.Debuggable)),
        (logtool.EventFlowTracer("coord"), (logtool.EventTrackable,)),
        (logtool.create_run_logs("proto_run", pid=1), (logtool.LifecycleManaged,)),
        (logtool.EventTracer("t"), (logtool.Debuggable, logtool.LifecycleManaged)),
        (logtool.add_logging(object.__new__(MyComponent), "proto_all", "x"),
         (logtool.Loggable, logtool.CorrelationAware, logtool.EventTrackable)),
        (logtool.add_logging(7, "proto_all", "x"),
         (logtool.Loggable, logtool.ContainerAware, logtool.CorrelationAware,
          logtool.EventTrackable)),
    ]
    for obj, protos in expectations:
        for proto in protos:
            assert isinstance(obj, proto), (obj, proto)
