"""The loopback server base: a real HTTP server in a thread, request recording and scripted faults."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

JsonResponse = tuple[int, Any]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it reached the server."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


@dataclass
class Fault:
    """A scripted misbehaviour for the next ``times`` matching requests.

    Exactly one behaviour applies: ``status`` (with ``body``/``headers``), ``delay_s`` (answer
    normally but late), ``malformed`` (200 with broken JSON), ``drop_after_apply`` (perform the
    request's effect, then close the connection without answering) or ``drop`` (close at once).
    ``method``/``path`` restrict which requests the fault applies to (``path`` matches exactly, or
    as a prefix when it ends with ``/``).
    """

    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    malformed: bool = False
    drop_after_apply: bool = False
    drop: bool = False
    method: str | None = None
    path: str | None = None
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        """Whether the fault applies to this request."""
        if self.method is not None and self.method != method:
            return False
        if self.path is None:
            return True
        return path.startswith(self.path) if self.path.endswith("/") else path == self.path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # buffer the status line, headers and body into one write (no Nagle stall)
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self.server.owner.dispatch(self)

    def do_POST(self) -> None:
        self.server.owner.dispatch(self)

    def do_PUT(self) -> None:
        self.server.owner.dispatch(self)

    def do_DELETE(self) -> None:
        self.server.owner.dispatch(self)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: LoopbackServer

    def process_request(self, request: Any, client_address: Any) -> None:
        self.owner.count_connection()
        super().process_request(request, client_address)


class LoopbackServer:
    """A fake API on ``host`` (127.0.0.1 by default) and a free port; subclasses implement ``handle``.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    service = "loopback"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.requests: list[RecordedRequest] = []
        self.connections = 0
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port and serve in a background thread."""
        server = _Server((self.host, 0), _Handler)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake any delayed answers, stop serving and close the socket."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port."""
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://host:port`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    # --- scripting and recording ------------------------------------------------------------

    def fail(self, fault: Fault | None = None, **kwargs: Any) -> Fault:
        """Script a fault (a :class:`Fault` or its fields as keywords)."""
        fault = fault or Fault(**kwargs)
        with self._lock:
            self._faults.append(fault)
        return fault

    def count_connection(self) -> None:
        """Count one accepted TCP connection."""
        with self._lock:
            self.connections += 1

    def recorded(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """The requests so far, optionally only those with this method and path prefix."""
        with self._lock:
            items = list(self.requests)
        return [
            r
            for r in items
            if (method is None or r.method == method) and (path is None or r.path.startswith(path))
        ]

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    # --- request handling -------------------------------------------------------------------

    def dispatch(self, handler: _Handler) -> None:
        """Record the request, apply any fault, otherwise answer with :meth:`handle`."""
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        split = urlsplit(handler.path)
        request = RecordedRequest(
            method=handler.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            at=time.monotonic(),
        )
        with self._lock:
            self.requests.append(request)
        fault = self._take_fault(request.method, request.path)
        if fault is not None and fault.drop:
            self._drop(handler)
            return
        if fault is not None and fault.delay_s and self._stopping.wait(fault.delay_s):
            self._drop(handler)
            return
        if fault is not None and fault.status is not None:
            self._send(handler, fault.status, fault.body, fault.headers)
            return
        status, payload, headers = self._answer(request)
        if fault is not None and fault.drop_after_apply:
            self._drop(handler)
            return
        if fault is not None and fault.malformed:
            self._send_raw(
                handler, 200, b'{"choices": [ {"message": oops', {"Content-Type": "application/json"}
            )
            return
        self._send(handler, status, payload, headers)

    def _answer(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        try:
            result = self.handle(request)
        except Exception as exc:  # a bug in a fake must show up as a 500, not hang the client
            return 500, {"error": {"message": f"fake server error: {exc!r}"}}, {}
        if len(result) == 2:
            status, payload = result
            return status, payload, {}
        return result

    def handle(self, request: RecordedRequest) -> tuple[int, Any] | tuple[int, Any, dict[str, str]]:
        """Answer one request: ``(status, json_payload[, headers])``. Subclasses override."""
        return 404, {"error": {"message": f"no route for {request.method} {request.path}"}}

    @staticmethod
    def _send(handler: _Handler, status: int, payload: Any, headers: dict[str, str]) -> None:
        if isinstance(payload, bytes):
            data = payload
        elif payload is None:
            data = b""
        else:
            data = json.dumps(payload).encode()
        merged = {"Content-Type": "application/json", **headers}
        LoopbackServer._send_raw(handler, status, data, merged)

    @staticmethod
    def _send_raw(handler: _Handler, status: int, data: bytes, headers: dict[str, str]) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()

    @staticmethod
    def _drop(handler: _Handler) -> None:
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)
