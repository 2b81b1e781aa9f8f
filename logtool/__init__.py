"""logtool: container-aware logging for many-container systems, and an analyzer for its trees."""

from __future__ import annotations

import importlib

# Not `from typing import TYPE_CHECKING`: typing costs ~10 ms, and a stored --cache answer is
# printed in about three times that (see logtool/analyze/answers.py).
TYPE_CHECKING = False

__version__ = "0.1.0"

# Public name -> module that defines it. Loaded on first access (PEP 562) so that
# `import logtool` (and the CLI, via logtool.errors) stays cheap and starts no thread.
_EXPORTS: dict[str, str] = {
    "configure": "logtool.write.runtime",
    "get_configuration": "logtool.write.runtime",
    "set_level": "logtool.write.runtime",
    "flush": "logtool.write.runtime",
    "shutdown": "logtool.write.runtime",
    "stats": "logtool.write.runtime",
    "set_router": "logtool.write.runtime",
    "set_global_context": "logtool.write.runtime",
    "get_logger": "logtool.write.logger",
    "ContainerLogger": "logtool.write.logger",
    "correlation": "logtool.write.context",
    "set_correlation_id": "logtool.write.context",
    "get_correlation_id": "logtool.write.context",
    "reset_correlation_id": "logtool.write.context",
    "new_correlation_id": "logtool.write.context",
    "propagate": "logtool.write.context",
    "add_logging": "logtool.write.compose",
    "LoggingProxy": "logtool.write.compose",
    "EventFlowTracer": "logtool.write.flows",
    "DomainEventLogger": "logtool.write.events",
    "create_run_logs": "logtool.write.runs",
    "RunLogs": "logtool.write.runs",
    "EventTracer": "logtool.write.tracing",
    "setup_container_tracing": "logtool.write.tracing",
    "LoggingHandler": "logtool.write.stdlib",
    "register_error_code": "logtool.write.errorcodes",
    "Loggable": "logtool.write.protocols",
    "EventTrackable": "logtool.write.protocols",
    "ContainerAware": "logtool.write.protocols",
    "CorrelationAware": "logtool.write.protocols",
    "Debuggable": "logtool.write.protocols",
    "LifecycleManaged": "logtool.write.protocols",
}
_RENAMED: dict[str, str] = {"register_error_code": "register"}

__all__ = [
    "ContainerAware",
    "ContainerLogger",
    "CorrelationAware",
    "Debuggable",
    "DomainEventLogger",
    "EventFlowTracer",
    "EventTracer",
    "EventTrackable",
    "LifecycleManaged",
    "Loggable",
    "LoggingHandler",
    "LoggingProxy",
    "RunLogs",
    "__version__",
    "add_logging",
    "configure",
    "correlation",
    "create_run_logs",
    "flush",
    "get_configuration",
    "get_correlation_id",
    "get_logger",
    "new_correlation_id",
    "propagate",
    "register_error_code",
    "reset_correlation_id",
    "set_correlation_id",
    "set_global_context",
    "set_level",
    "set_router",
    "setup_container_tracing",
    "shutdown",
    "stats",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'logtool' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), _RENAMED.get(name, name))
    globals()[name] = value  # later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from typing import Any

    from logtool.write.compose import LoggingProxy, add_logging
    from logtool.write.context import (
        correlation,
        get_correlation_id,
        new_correlation_id,
        propagate,
        reset_correlation_id,
        set_correlation_id,
    )
    from logtool.write.errorcodes import register as register_error_code
    from logtool.write.events import DomainEventLogger
    from logtool.write.flows import EventFlowTracer
    from logtool.write.logger import ContainerLogger, get_logger
    from logtool.write.protocols import (
        ContainerAware,
        CorrelationAware,
        Debuggable,
        EventTrackable,
        LifecycleManaged,
        Loggable,
    )
    from logtool.write.runs import RunLogs, create_run_logs
    from logtool.write.runtime import (
        configure,
        flush,
        get_configuration,
        set_global_context,
        set_level,
        set_router,
        shutdown,
        stats,
    )
    from logtool.write.stdlib import LoggingHandler
    from logtool.write.tracing import EventTracer, setup_container_tracing
