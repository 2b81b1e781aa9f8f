"""The runtime-checkable capability protocols (seed 001): composition instead of base classes."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Loggable(Protocol):
    """Anything that can log messages."""

    def log(self, level: str, message: str, /, **context: Any) -> None: ...


@runtime_checkable
class EventTrackable(Protocol):
    """Anything that can trace event flows."""

    def trace_event(self, event_id: str, source: str, target: str, **context: Any) -> None: ...


@runtime_checkable
class ContainerAware(Protocol):
    """Anything that knows which container and component it belongs to."""

    @property
    def container_id(self) -> str: ...

    @property
    def component_name(self) -> str: ...


@runtime_checkable
class CorrelationAware(Protocol):
    """Anything that can carry a correlation id across boundaries."""

    def set_correlation_id(self, correlation_id: str) -> None: ...

    def get_correlation_id(self) -> str | None: ...


@runtime_checkable
class Debuggable(Protocol):
    """Anything that can show its state and trace itself."""

    def capture_state(self) -> dict[str, Any]: ...

    def enable_tracing(self, enabled: bool) -> None: ...


@runtime_checkable
class LifecycleManaged(Protocol):
    """Anything with an initialize / cleanup / status lifecycle."""

    def initialize(self) -> None: ...

    def cleanup(self) -> None: ...

    def get_status(self) -> dict[str, Any]: ...
