"""add_logging: give any object or function log methods, by attributes, a wrapper or a proxy."""

from __future__ import annotations

import functools
import inspect
import operator
import types
from collections.abc import Callable
from typing import Any, Final

from logtool.write import runtime
from logtool.write.logger import ContainerLogger, get_logger

# Names add_logging attaches; existing attributes of the target are never overwritten.
_METHOD_NAMES: Final = {
    "log": "log",
    "log_debug": "debug",
    "log_info": "info",
    "log_warning": "warning",
    "log_error": "error",
    "log_critical": "critical",
    "log_exception": "exception",
    "set_correlation_id": "set_correlation_id",
    "get_correlation_id": "get_correlation_id",
    "trace_event": "trace_event",
}
_FUNCTION_TYPES: Final = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.BuiltinMethodType,
    functools.partial,
)
_MISSING: Final = object()


def _has(obj: Any, name: str) -> bool:
    """Whether obj already has name, without running properties or __getattr__ hooks."""
    try:
        if name in vars(obj):
            return True
    except TypeError:
        pass
    return inspect.getattr_static(obj, name, _MISSING) is not _MISSING


def _attach(target: Any, logger: ContainerLogger) -> None:
    """Set the log methods and identity attributes on target (raises if it refuses them)."""
    if not _has(target, "logger"):
        target.logger = logger
    for name, method in _METHOD_NAMES.items():
        if not _has(target, name):
            setattr(target, name, getattr(logger, method))
    for name in ("container_id", "component_name"):
        if not _has(target, name):
            setattr(target, name, getattr(logger, name))


def _wrap_function(fn: Callable[..., Any], logger: ContainerLogger) -> Callable[..., Any]:
    """A wrapper that calls fn unchanged and carries the log methods."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            return await fn(*args, **kwargs)

        wrapper: Callable[..., Any] = async_wrapper
    else:

        @functools.wraps(fn)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        wrapper = sync_wrapper
    # functools.wraps copies the wrapped __dict__; our names must win over copied ones.
    for name in ("logger", "container_id", "component_name", *_METHOD_NAMES):
        wrapper.__dict__.pop(name, None)
    _attach(wrapper, logger)
    return wrapper


def add_logging(target: Any, container_id: str, component: str = "main") -> Any:
    """target with log/log_info/log_debug/log_warning/log_error and correlation helpers.

    Plain objects get the methods as attributes (same object back); functions come back
    wrapped (still callable, same name and signature); objects that refuse attributes
    (__slots__, builtins, C types) come back as a transparent LoggingProxy. Never raises:
    on an unexpected failure the target itself is returned.
    """
    try:
        logger = get_logger(container_id, component)
        if isinstance(target, LoggingProxy):
            return target
        if isinstance(target, _FUNCTION_TYPES):
            return _wrap_function(target, logger)
        try:
            object.__getattribute__(target, "__dict__")
            _attach(target, logger)
            return target
        except Exception:  # noqa: BLE001, S110 - refusing attributes is the proxy's cue
            pass
        return make_proxy(target, logger)
    except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
        runtime.note_error("add_logging", exc)
        return target


# ------------------------------------------------------------------ the proxy


def _target(proxy: Any) -> Any:
    return object.__getattribute__(proxy, "__wrapped__")


def _unwrap(value: Any) -> Any:
    return _target(value) if isinstance(value, LoggingProxy) else value


class LoggingProxy:
    """Forwards attribute access, calls and operators to the wrapped object; adds log methods.

    isinstance(proxy, type(target)) holds (via __class__); `proxy.__wrapped__` is the target.
    """

    __slots__ = ("__wrapped__", "_logtool_logger")

    def __init__(self, target: Any, logger: ContainerLogger) -> None:
        object.__setattr__(self, "__wrapped__", target)
        object.__setattr__(self, "_logtool_logger", logger)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance() consults this
        return type(_target(self))

    def __getattr__(self, name: str) -> Any:
        return getattr(_target(self), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(_target(self), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(_target(self), name)

    def __dir__(self) -> list[str]:
        return sorted({*dir(_target(self)), *_METHOD_NAMES, "logger", "container_id",
                       "component_name"})

    def __repr__(self) -> str:
        return repr(_target(self))

    def __str__(self) -> str:
        return str(_target(self))

    def __format__(self, spec: str) -> str:
        return format(_target(self), spec)

    def __bool__(self) -> bool:
        return bool(_target(self))

    def __eq__(self, other: object) -> bool:
        return bool(_target(self) == _unwrap(other))

    def __ne__(self, other: object) -> bool:
        return bool(_target(self) != _unwrap(other))

    def __hash__(self) -> int:
        return hash(_target(self))

    # ---- the added capabilities
    @property
    def logger(self) -> ContainerLogger:
        """The ContainerLogger behind the log methods."""
        return object.__getattribute__(self, "_logtool_logger")

    @property
    def container_id(self) -> str:
        """The container the proxy logs for."""
        return self.logger.container_id

    @property
    def component_name(self) -> str:
        """The component the proxy logs for."""
        return self.logger.component_name

    def log(self, level: str | int, message: Any, /, **context: Any) -> None:
        """Record at a level given by name or number."""
        self.logger.log(level, message, **context)

    def log_debug(self, message: Any, /, **context: Any) -> None:
        """Record at DEBUG."""
        self.logger.debug(message, **context)

    def log_info(self, message: Any, /, **context: Any) -> None:
        """Record at INFO."""
        self.logger.info(message, **context)

    def log_warning(self, message: Any, /, **context: Any) -> None:
        """Record at WARNING."""
        self.logger.warning(message, **context)

    def log_error(self, message: Any, /, **context: Any) -> None:
        """Record at ERROR."""
        self.logger.error(message, **context)

    def log_critical(self, message: Any, /, **context: Any) -> None:
        """Record at CRITICAL."""
        self.logger.critical(message, **context)

    def log_exception(self, message: Any, /, **context: Any) -> None:
        """Record at ERROR with the active traceback."""
        self.logger.exception(message, **context)

    def set_correlation_id(self, correlation_id: str | None) -> None:
        """Make correlation_id active in the current context."""
        self.logger.set_correlation_id(correlation_id)

    def get_correlation_id(self) -> str | None:
        """The active correlation id."""
        return self.logger.get_correlation_id()

    def trace_event(self, event_id: str, source: str, target: str, **context: Any) -> None:
        """One flow hop (see ContainerLogger.trace_event)."""
        self.logger.trace_event(event_id, source, target, **context)


def _binary(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def forward(self: Any, other: Any) -> Any:
        return op(_target(self), _unwrap(other))

    return forward


def _reflected(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def forward(self: Any, other: Any) -> Any:
        return op(_unwrap(other), _target(self))

    return forward


def _inplace(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def forward(self: Any, other: Any) -> Any:
        target = _target(self)
        result = op(target, _unwrap(other))
        if result is target:
            return self
        # immutable targets (int += 1) give a new value: keep it proxied so logging stays
        return make_proxy(result, object.__getattribute__(self, "_logtool_logger"))

    return forward


def _unary(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def forward(self: Any) -> Any:
        return fn(_target(self))

    return forward


def _method(name: str) -> Callable[..., Any]:
    def forward(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(_target(self), name)(*args, **kwargs)

    return forward


_BINARY_OPS: Final = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "matmul": operator.matmul,
    "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
    "pow": operator.pow, "lshift": operator.lshift, "rshift": operator.rshift,
    "and": operator.and_, "or": operator.or_, "xor": operator.xor, "divmod": divmod,
}
_INPLACE_OPS: Final = {
    "add": operator.iadd, "sub": operator.isub, "mul": operator.imul,
    "matmul": operator.imatmul, "truediv": operator.itruediv, "floordiv": operator.ifloordiv,
    "mod": operator.imod, "pow": operator.ipow, "lshift": operator.ilshift,
    "rshift": operator.irshift, "and": operator.iand, "or": operator.ior, "xor": operator.ixor,
}
_COMPARE_OPS: Final = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
_UNARY_OPS: Final[dict[str, Callable[[Any], Any]]] = {
    "neg": operator.neg, "pos": operator.pos, "abs": abs, "invert": operator.invert,
    "len": len, "iter": iter, "reversed": reversed, "int": int, "float": float,
    "complex": complex, "index": operator.index, "bytes": bytes, "next": next,
}
# Called with their arguments on the target (protocols that are not plain operators).
_METHOD_DUNDERS: Final = (
    "__call__", "__getitem__", "__setitem__", "__delitem__", "__contains__", "__enter__",
    "__exit__", "__aenter__", "__aexit__", "__await__", "__aiter__", "__anext__",
    "__round__", "__trunc__", "__floor__", "__ceil__", "__fspath__", "__length_hint__",
    "__missing__", "__get__",
)

_PROXY_CLASSES: dict[type, type[LoggingProxy]] = {}


def _proxy_class(cls: type) -> type[LoggingProxy]:
    """A LoggingProxy subclass with exactly the special methods cls has (so that e.g.
    len() of a proxied int still fails the way it does on the int)."""
    found = _PROXY_CLASSES.get(cls)
    if found is not None:
        return found
    ns: dict[str, Any] = {"__slots__": ()}
    for name, op in _BINARY_OPS.items():
        if hasattr(cls, f"__{name}__"):
            ns[f"__{name}__"] = _binary(op)
        if hasattr(cls, f"__r{name}__"):
            ns[f"__r{name}__"] = _reflected(op)
    for name, op in _INPLACE_OPS.items():
        if hasattr(cls, f"__{name}__") or hasattr(cls, f"__i{name}__"):
            ns[f"__i{name}__"] = _inplace(op)
    for name, op in _COMPARE_OPS.items():
        if getattr(cls, f"__{name}__", None) is not getattr(object, f"__{name}__", None):
            ns[f"__{name}__"] = _binary(op)
    for name, fn in _UNARY_OPS.items():
        if hasattr(cls, f"__{name}__"):
            ns[f"__{name}__"] = _unary(fn)
    for name in _METHOD_DUNDERS:
        if hasattr(cls, name):
            ns[name] = _method(name)
    if getattr(cls, "__hash__", None) is None:
        ns["__hash__"] = None  # unhashable targets (dict, list) stay unhashable
    proxy_cls = type(f"LoggingProxy[{cls.__qualname__}]", (LoggingProxy,), ns)
    _PROXY_CLASSES[cls] = proxy_cls
    return proxy_cls


def make_proxy(target: Any, logger: ContainerLogger) -> LoggingProxy:
    """A transparent proxy for target that also carries logger's methods."""
    return _proxy_class(type(target))(target, logger)
