"""A TCP proxy on loopback that injects faults between the kit and the central server: the
connection cut after a given number of bytes either way, an HTTP 500 instead of the server's
answer, or a stall (the client times out). ``plan(n)`` decides the fault of the n-th connection."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    kind: str  # "cut_up" | "cut_down" | "http500" | "stall"
    at: int = 0  # bytes (cuts) or seconds (stall)


Plan = Callable[[int], Fault | None]


class FaultProxy:
    def __init__(self, target_port: int, plan: Plan | None = None) -> None:
        self.target = ("127.0.0.1", target_port)
        self.plan: Plan = plan or (lambda _n: None)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.faults: list[Fault] = []
        self._stop = False
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._accept = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._accept.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self.listener.close()
        with self._lock:
            for s in self._socks:
                _close(s)
        self._accept.join(5)
        for t in self._threads:
            t.join(5)

    def _serve(self) -> None:
        while not self._stop:
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return
            n = self.connections
            self.connections += 1
            fault = self.plan(n)
            if fault is not None:
                self.faults.append(fault)
            t = threading.Thread(target=self._handle, args=(client, fault), daemon=True)
            self._threads.append(t)
            t.start()

    def _handle(self, client: socket.socket, fault: Fault | None) -> None:
        with self._lock:
            self._socks.append(client)
        if fault is not None and fault.kind == "http500":
            client.settimeout(5)
            with suppress(OSError):  # the client may have gone: the fault is served either way
                client.recv(65536)
                body = b'{"detail":"injected fault"}'
                client.sendall(b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
                               b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body))
            _close(client)
            return
        if fault is not None and fault.kind == "stall":
            end = time.monotonic() + fault.at
            while time.monotonic() < end and not self._stop:
                time.sleep(0.05)
            _close(client)
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            self._socks.append(upstream)
        up_limit = fault.at if fault is not None and fault.kind == "cut_up" else None
        down_limit = fault.at if fault is not None and fault.kind == "cut_down" else None
        t = threading.Thread(target=self._pump, args=(client, upstream, up_limit, client), daemon=True)
        t.start()
        self._pump(upstream, client, down_limit, upstream)
        t.join(10)

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, limit: int | None, other: socket.socket) -> None:
        sent = 0
        with suppress(OSError):  # either side closing ends the pump; both are then closed
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    dst.sendall(data[: max(0, limit - sent)])
                    break
                dst.sendall(data)
                sent += len(data)
        _close(src)
        _close(dst)
        _close(other)


def _close(s: socket.socket) -> None:
    """Shut down and close, whatever state the socket is in (closed already, never connected)."""
    with suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    with suppress(OSError):
        s.close()
