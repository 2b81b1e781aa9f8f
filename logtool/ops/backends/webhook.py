"""The webhook backend: records POSTed as JSON batches from its own thread, retried, bounded."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Mapping
from typing import Any

import orjson

from logtool.ops.backends import BaseBackend, OptionError, Options
from logtool.ops.backends._format import iso_time


class WebhookBackend(BaseBackend):
    """Queues records (bounded; when full the newest are dropped and counted) and POSTs them as
    `{"records": [...]}` batches. A failed POST keeps its batch at the head of the queue and is
    retried with exponential backoff, so delivery resumes when the target comes back."""

    self_flushing = True  # its sender thread sends every flush_interval_seconds

    @classmethod
    def parse_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        opts = Options(options)
        url = opts.get("url", str, None)
        if not url:
            raise OptionError("url", "the webhook backend needs a url")
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise OptionError("url", f"{url!r} is not an http:// or https:// URL")
        parsed = {
            "url": url,
            "batch_size": opts.integer("batch_size", 50, minimum=1),
            "flush_interval_seconds": opts.number("flush_interval_seconds", 1.0, minimum=0.01),
            "max_queue": opts.integer("max_queue", 10_000, minimum=1),
            "timeout_seconds": opts.number("timeout_seconds", 2.0, minimum=0.01),
            "backoff_seconds": opts.number("backoff_seconds", 0.5, minimum=0.0),
            "max_backoff_seconds": opts.number("max_backoff_seconds", 30.0, minimum=0.0),
            "headers": opts.get("headers", dict, {}),
        }
        opts.done()
        return parsed

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        o = self.options
        self.url: str = o["url"]
        self._queue: deque[dict[str, Any]] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._flush_requested = False
        self._in_flight = 0
        self.counters = {"sent_records": 0, "sent_batches": 0, "failed_posts": 0, "dropped": 0}
        self._thread = threading.Thread(target=self._run, name=f"logtool-webhook-{self.name}",
                                        daemon=True)
        self._thread.start()

    def write(self, record: Mapping[str, Any]) -> None:
        item = dict(record)
        item["timestamp"] = iso_time(record.get("timestamp"))
        with self._cond:
            if len(self._queue) >= self.options["max_queue"]:
                self.counters["dropped"] += 1
                return
            self._queue.append(item)
            if len(self._queue) >= self.options["batch_size"]:
                self._cond.notify()

    def stats(self) -> dict[str, int]:
        """Delivery counters plus the current queue depth."""
        with self._cond:
            return {**self.counters, "queued": len(self._queue) + self._in_flight}

    def flush(self, timeout: float | None = None) -> None:
        """Ask for an immediate send; wait (bounded) until the queue is empty or sending fails."""
        deadline = time.monotonic() + (self.options["timeout_seconds"] if timeout is None
                                       else timeout)
        with self._cond:
            self._flush_requested = True
            self._cond.notify()
            while (self._queue or self._in_flight) and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._cond.wait(remaining)

    def close(self) -> None:
        self.flush()
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(self.options["timeout_seconds"] * 2 + 1)
        with self._cond:
            # Whatever the target did not take before closing is lost: count it.
            self.counters["dropped"] += len(self._queue)
            self._queue.clear()

    # ---------------------------------------------------------------- sender thread

    def _run(self) -> None:
        o = self.options
        backoff = 0.0
        while True:
            with self._cond:
                if backoff > 0:
                    # Sleep out the backoff even when writes arrive: a down target is not hammered.
                    until = time.monotonic() + backoff
                    while not self._closing and (left := until - time.monotonic()) > 0:
                        self._cond.wait(left)
                elif not (self._closing or self._flush_requested
                          or len(self._queue) >= o["batch_size"]):
                    self._cond.wait(o["flush_interval_seconds"])
                if self._closing:
                    return
                batch = [self._queue.popleft()
                         for _ in range(min(o["batch_size"], len(self._queue)))]
                if not self._queue:
                    self._flush_requested = False  # a flush lasts until the queue is empty
                self._in_flight = len(batch)
            if not batch:
                backoff = 0.0
                continue
            ok = self._post(batch)
            with self._cond:
                self._in_flight = 0
                if ok:
                    self.counters["sent_records"] += len(batch)
                    self.counters["sent_batches"] += 1
                    backoff = 0.0
                else:
                    self.counters["failed_posts"] += 1
                    # Back to the head, still bounded: overflow beyond max_queue is dropped.
                    self._queue.extendleft(reversed(batch))
                    while len(self._queue) > o["max_queue"]:
                        self._queue.pop()
                        self.counters["dropped"] += 1
                    backoff = min(max(backoff * 2, o["backoff_seconds"]), o["max_backoff_seconds"])
                self._cond.notify_all()

    def _post(self, batch: list[dict[str, Any]]) -> bool:
        body = orjson.dumps({"records": batch}, default=str)
        headers = {"Content-Type": "application/json", **{str(k): str(v) for k, v in
                                                          self.options["headers"].items()}}
        # The scheme was checked to be http(s) by parse_options.
        request = urllib.request.Request(self.url, data=body, headers=headers,  # noqa: S310
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.options["timeout_seconds"]) as resp:  # noqa: S310
                return bool(200 <= resp.status < 300)
        except (urllib.error.URLError, OSError, ValueError):
            return False
