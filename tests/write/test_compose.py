"""add_logging on objects, functions, __slots__ objects, builtins and C objects (point 9)."""
# mypy: disable-error-code="attr-defined,arg-type"

from __future__ import annotations

import asyncio
import datetime as dt
import io
import operator
from pathlib import Path
from typing import Any

import pytest

import logtool
from logtool.write.compose import LoggingProxy

LOG = "containers/comp_c/{}.log"


class Strategy:
    def generate_signal(self, data: float) -> dict[str, Any]:
        return {"action": "BUY", "strength": data}


class Slotted:
    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def double(self) -> int:
        return self.value * 2


class HasOwnLog:
    def log(self, *args: Any, **kwargs: Any) -> str:
        return "mine"


def momentum_signal(change: float) -> bool:
    """Whether the change is a momentum signal."""
    return change > 0.02


def test_plain_object_gets_methods_and_stays_itself(tree: Path, read: Any) -> None:
    """A plain object is returned as the same object with the log methods attached."""
    strategy = Strategy()
    enhanced: Any = logtool.add_logging(strategy, "comp_c", "my_strategy")
    assert enhanced is strategy
    enhanced.log_info("Generating signal", signal_strength=0.8)
    enhanced.log("WARNING", "careful")
    assert enhanced.generate_signal(0.5) == {"action": "BUY", "strength": 0.5}
    assert (enhanced.container_id, enhanced.component_name) == ("comp_c", "my_strategy")
    recs = read(LOG.format("my_strategy"))
    assert [(r["level"], r["message"]) for r in recs] == [
        ("INFO", "Generating signal"), ("WARNING", "careful")]
    assert recs[0]["context"] == {"signal_strength": 0.8}


def test_existing_attributes_are_not_overwritten(tree: Path, read: Any) -> None:
    """An object's own `log` method survives; the other helpers are still added."""
    obj = logtool.add_logging(HasOwnLog(), "comp_c", "own")
    assert obj.log() == "mine"
    obj.log_error("added helper works")
    assert read(LOG.format("own"))[0]["level"] == "ERROR"


def test_function_is_wrapped_and_still_works(tree: Path, read: Any) -> None:
    """A function comes back callable with the same name/doc and the log methods."""
    fn = logtool.add_logging(momentum_signal, "comp_c", "momentum")
    assert fn(0.05) is True and fn(0.0) is False
    assert fn.__name__ == "momentum_signal" and fn.__doc__ == momentum_signal.__doc__
    assert fn.__wrapped__ is momentum_signal
    fn.log_warning("Low volume detected", volume=3)
    assert read(LOG.format("momentum"))[0]["context"] == {"volume": 3}
    assert not hasattr(momentum_signal, "log_warning")


def test_async_function_and_builtin_function(tree: Path, read: Any) -> None:
    """Coroutine functions stay awaitable; builtin functions stay callable."""

    async def fetch(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    afn = logtool.add_logging(fetch, "comp_c", "fetch")
    assert asyncio.run(afn(1)) == 2
    bfn = logtool.add_logging(len, "comp_c", "len")
    assert bfn([1, 2, 3]) == 3
    bfn.log_debug("builtin logs")
    afn.log_info("async logs")
    assert len(read(LOG.format("len"))) == 1 and len(read(LOG.format("fetch"))) == 1


def test_slots_object_gets_a_transparent_proxy(tree: Path, read: Any) -> None:
    """__slots__ objects refuse attributes: the proxy forwards reads, writes and calls."""
    original = Slotted(21)
    proxy = logtool.add_logging(original, "comp_c", "slotted")
    assert isinstance(proxy, LoggingProxy) and isinstance(proxy, Slotted)
    assert proxy.double() == 42
    proxy.value = 5
    assert original.value == 5
    proxy.log_info("slots log")
    assert read(LOG.format("slotted"))[0]["message"] == "slots log"


def test_int_proxy_behaves_as_an_int(tree: Path, read: Any) -> None:
    """Arithmetic, comparisons, hash, format and isinstance work on a proxied int."""
    x: Any = logtool.add_logging(5, "comp_c", "int")
    assert isinstance(x, int) and x.__class__ is int
    assert x + 1 == 6 and 1 + x == 6 and x * 2 == 10 and -x == -5 and abs(-x) == 5
    assert x == 5 and x != 6 and x < 6 and x >= 5
    assert hash(x) == hash(5) and {x: "v"}[5] == "v"
    assert f"{x:03d}" == "005" and str(x) == "5" and repr(x) == "5"
    assert divmod(x, 2) == (2, 1) and int(x) == 5 and float(x) == 5.0
    assert [10, 20, 30, 40, 50, 60][x] == 60
    with pytest.raises(TypeError):
        len(x)
    y = x
    y += 1
    assert y == 6 and isinstance(y, LoggingProxy)
    y.log_info("still logs after +=")
    assert read(LOG.format("int"))[0]["message"] == "still logs after +="


def test_dict_proxy_forwards_container_protocols(tree: Path, read: Any) -> None:
    """len, iter, getitem/setitem/delitem, contains and equality reach the dict."""
    data = {"a": 1}
    d: Any = logtool.add_logging(data, "comp_c", "dict")
    d["b"] = 2
    del d["a"]
    assert data == {"b": 2} and d == {"b": 2}
    assert len(d) == 1 and list(d) == ["b"] and "b" in d and d.get("b") == 2
    assert isinstance(d, dict)
    with pytest.raises(TypeError):
        hash(d)
    d.log_debug("dict logs", size=len(d))
    assert read(LOG.format("dict"))[0]["context"] == {"size": 1}


def test_bytesio_and_date(tree: Path, read: Any) -> None:
    """C objects: a BytesIO keeps working as a file, a date compares and formats."""
    buf = logtool.add_logging(io.BytesIO(), "comp_c", "buf")
    with buf as f:
        f.write(b"abc")
        f.seek(0)
        assert f.read() == b"abc"
    day: Any = logtool.add_logging(dt.date(2025, 1, 15), "comp_c", "date")
    assert isinstance(day, dt.date) and day.year == 2025
    assert day == dt.date(2025, 1, 15) and day < dt.date(2026, 1, 1)
    assert day - dt.date(2025, 1, 1) == dt.timedelta(days=14)
    assert day.isoformat() == "2025-01-15" and f"{day:%Y}" == "2025"
    buf.log_info("buffer")
    day.log_info("date")
    assert read(LOG.format("buf"))[0]["message"] == "buffer"
    assert read(LOG.format("date"))[0]["message"] == "date"


def test_proxy_of_a_builtin_type_still_constructs(tree: Path) -> None:
    """A builtin class (refusing attributes) is proxied and can still be called."""
    proxied_int = logtool.add_logging(int, "comp_c", "type")
    assert proxied_int("7") == 7


def test_proxy_operator_table_matches_target(tree: Path) -> None:
    """Binary operators on proxies give the same results as on the originals."""
    for a, b in ((7, 3), (2.5, 0.5), ({1, 2}, {2, 3})):
        pa = logtool.add_logging(a, "comp_c", "ops")
        for op in (operator.add, operator.sub, operator.and_, operator.or_):
            try:
                expected = op(a, b)
            except TypeError:
                continue
            assert op(pa, b) == expected


def test_add_logging_results_satisfy_protocols(tree: Path) -> None:
    """Objects, functions and proxies are Loggable, ContainerAware and CorrelationAware."""
    targets = [Strategy(), momentum_signal, Slotted(1), 3, {"k": 1}]
    for target in targets:
        enhanced = logtool.add_logging(target, "comp_c", "proto")
        for proto in (logtool.Loggable, logtool.ContainerAware, logtool.CorrelationAware):
            assert isinstance(enhanced, proto), (target, proto)
        enhanced.set_correlation_id("trade_p")
        assert enhanced.get_correlation_id() == "trade_p"
        logtool.set_correlation_id(None)


def test_add_logging_twice_on_a_proxy_returns_it(tree: Path) -> None:
    """Proxies are not double-wrapped."""
    p = logtool.add_logging(5, "comp_c", "twice")
    assert logtool.add_logging(p, "comp_c", "twice") is p
