"""Fixtures for the ops tests: real servers on loopback (Pushgateway, Prometheus, an HTTP sink)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

SERVER_WAIT_SECONDS = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_binary(name: str) -> str:
    """The binary's path; a missing server binary fails the test (never a skip)."""
    path = shutil.which(name)
    if path is None:
        required = os.environ.get("CI_SERVERS_REQUIRED") == "1"
        pytest.fail(f"{name} is not installed (apt-get install {name})"
                    + (" and CI_SERVERS_REQUIRED=1" if required else ""))
    return path


def http_get(url: str, timeout: float = 5.0) -> str:
    """The body of a GET, as text."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.read().decode()


def wait_until(check: Callable[[], Any], what: str,
               timeout: float = SERVER_WAIT_SECONDS, interval: float = 0.1) -> Any:
    """Poll check() until it returns something truthy without raising; fail after timeout."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:
            last = exc
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:g}s waiting for {what} (last error: {last})")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def _start(args: list[str], ready_url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)

    def ready() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"{args[0]} exited with {proc.returncode}: {log.read_text()[-2000:]}")
        http_get(ready_url, timeout=2)
        return True

    try:
        wait_until(ready, f"{Path(args[0]).name} at {ready_url}")
    except BaseException:
        _stop(proc)
        raise
    return proc


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[str]:
    """A real prometheus-pushgateway on loopback; yields its host:port."""
    binary = require_binary("prometheus-pushgateway")
    port = free_port()
    address = f"127.0.0.1:{port}"
    proc = _start([binary, f"--web.listen-address={address}"], f"http://{address}/-/ready",
                  tmp_path / "pushgateway.out")
    try:
        yield address
    finally:
        _stop(proc)


@pytest.fixture
def prometheus_server(tmp_path: Path) -> Iterator[Callable[[int], str]]:
    """Start a real prometheus scraping 127.0.0.1:<target_port> every second; returns its URL."""
    binary = require_binary("prometheus")
    procs: list[subprocess.Popen[bytes]] = []

    def start(target_port: int) -> str:
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: logtool\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{target_port}']\n",
            encoding="utf-8",
        )
        address = f"127.0.0.1:{free_port()}"
        procs.append(_start(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address={address}"],
            f"http://{address}/-/ready", tmp_path / "prometheus.out"))
        return f"http://{address}"

    try:
        yield start
    finally:
        for proc in procs:
            _stop(proc)


class WebhookSink:
    """A real HTTP server on loopback collecting POSTed JSON bodies; stop() and start() again
    on the same port simulate a target that goes down and comes back."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/hook"
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                with sink.lock:
                    sink.bodies.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def records(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for body in self.bodies for r in body["records"]]


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    """A running WebhookSink on a free loopback port."""
    sink = WebhookSink(free_port())
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def down_port() -> int:
    """A loopback port with nothing listening (connections are refused)."""
    return free_port()


@pytest.fixture
def http() -> Callable[..., str]:
    """http_get as a fixture, so test modules need not import this conftest."""
    return http_get


@pytest.fixture
def poll() -> Callable[..., Any]:
    """wait_until as a fixture: poll(check, what, timeout=...) with a bounded wait."""
    return wait_until
