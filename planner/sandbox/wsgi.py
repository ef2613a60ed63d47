"""A small keep-alive WSGI server on the standard library, for the sandbox.

werkzeug's development server answers every request with `Connection: close`, so a client pays
for a new TCP connection per request: a GET over loopback took 1.5-3.5 ms, of which the app's
own work is 0.2-0.3 ms.
This one keeps HTTP/1.1 connections open. Two details make that fast rather than slow: each
answer leaves in ONE write (status line, headers and body together) and Nagle's algorithm is
off; an answer written in two pieces otherwise waits ~40 ms for the client's delayed ACK.
Answers are buffered whole, which suits the sandbox's small JSON bodies.

The app may close a connection without answering, to imitate a network fault, by calling
`environ["sandbox.drop"]()`.
"""
from __future__ import annotations

import io
import json
import socket
import socketserver
import sys
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import unquote_to_bytes, urlsplit

MAX_LINE = 65536  # longest request line or chunk-size line, as http.server allows
MAX_BODY = 64 * 1024 * 1024  # a sandbox request body is a record or a query: far smaller
HOP_BY_HOP = ("connection", "keep-alive", "transfer-encoding")  # framing is the server's business
NO_BODY = (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED)

WSGIApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]
Answer = tuple[str, list[tuple[str, str]], bytes]  # status line text, headers, body


class KeepAliveHandler(BaseHTTPRequestHandler):
    """One connection: requests read and answered in turn until either side closes it."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "planner-sandbox"
    server: WSGIServer

    def setup(self) -> None:
        super().setup()
        self._dropped = False
        self.server.opened(self.connection)

    def finish(self) -> None:
        self.server.closed(self.connection)
        try:
            super().finish()
        except OSError:
            pass  # the client went away; nothing is left to flush

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no access log: the sandbox app keeps its own request log

    # -- one request -------------------------------------------------------------------------
    def handle_one_request(self) -> None:
        self.command, self.request_version, self.requestline = "", "", ""  # for early send_error
        self.close_connection = True
        try:
            line = self.rfile.readline(MAX_LINE + 1)
            if line in (b"\r\n", b"\n"):  # RFC 9112 2.2: ignore a stray empty line before a request
                line = self.rfile.readline(MAX_LINE + 1)
        except OSError:  # reset by the client, or shut down by stop()
            return
        self.raw_requestline = line
        if not line:
            return  # the client closed an idle connection
        if len(line) > MAX_LINE:
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
            return
        if not self.parse_request():
            return  # parse_request has answered (400, 431, 505) or the line was blank
        if not self.request_version.startswith("HTTP/1."):
            self.send_error(HTTPStatus.BAD_REQUEST, "HTTP/0.9 requests are not supported")
            return
        if self.request_version != "HTTP/1.1":
            self.close_connection = True  # HTTP/1.0 clients get one answer per connection
        body = self._read_body()
        if body is not None:
            self._respond(self._call_app(body))

    def _read_body(self) -> bytes | None:
        """The request body, read off the connection whatever the app does with it (so the next
        request starts at a request line); None once answered with an error or disconnected."""
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return self._read_chunked()
            return self._read_sized()
        except OSError:  # the client went away mid-body
            self.close_connection = True
            return None

    def _read_sized(self) -> bytes | None:
        lengths = {v.strip() for v in self.headers.get_all("Content-Length") or ["0"]}
        text = lengths.pop()
        if lengths or not text.isdigit():
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad Content-Length")
            return None
        if int(text) > MAX_BODY:
            self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return None
        body = self.rfile.read(int(text))
        if len(body) < int(text):  # the client went away mid-body
            self.close_connection = True
            return None
        return body

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(MAX_LINE + 1)
            if not line:
                self.close_connection = True
                return None
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                size = -1
            if size < 0:
                self.send_error(HTTPStatus.BAD_REQUEST, "Bad chunk size")
                return None
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
                return None
            chunk = self.rfile.read(size)
            if len(chunk) < size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                self.send_error(HTTPStatus.BAD_REQUEST, "Bad chunk")
                return None
            parts.append(chunk)
        while self.rfile.readline(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
            pass  # trailer fields: not passed on
        return b"".join(parts)

    def environ(self, body: bytes) -> dict:
        """The WSGI environ of the parsed request (PEP 3333: native strings hold latin-1)."""
        target = self.path
        if target.startswith("/"):
            path, _, query = target.partition("?")
            host = None
        else:  # absolute-form (http://host/path), as a proxy would be sent
            parts = urlsplit(target)
            path, query, host = parts.path or "/", parts.query, parts.netloc
        client_host, client_port = self.client_address[:2]
        environ = {
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "wsgi.input_terminated": True,
            "SERVER_SOFTWARE": self.server_version, "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "", "PATH_INFO": unquote_to_bytes(path.encode("latin-1")).decode("latin-1"),
            "QUERY_STRING": query, "REQUEST_URI": target, "SERVER_PROTOCOL": self.request_version,
            "SERVER_NAME": self.server.server_name, "SERVER_PORT": str(self.server.server_port),
            "REMOTE_ADDR": client_host, "REMOTE_PORT": str(client_port),
            "sandbox.drop": self.drop,
        }
        if body or "Content-Length" in self.headers or "Transfer-Encoding" in self.headers:
            environ["CONTENT_LENGTH"] = str(len(body))  # a chunked body arrives de-chunked
        for name, value in self.headers.items():
            if "_" in name:
                continue  # X_Y would pass for X-Y once upper-cased; werkzeug drops these too
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
                continue
            key = key if key == "CONTENT_TYPE" else f"HTTP_{key}"
            value = value.replace("\r\n", "")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        if host:
            environ["HTTP_HOST"] = host
        return environ

    def _call_app(self, body: bytes) -> Answer | None:
        """The app's whole answer; None when the app dropped the connection."""
        started: list = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
            if started and not exc_info:
                raise AssertionError("start_response called twice without exc_info")
            started[:] = [status, list(headers)]  # nothing is sent yet, so a later call may replace it
            return chunks.append

        try:
            result = self.server.app(self.environ(body), start_response)
            try:
                chunks.extend(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            if not started:
                raise RuntimeError("the WSGI app returned without calling start_response")
        except Exception:
            if self._dropped:
                return None
            traceback.print_exc(file=sys.stderr)
            return _failure(HTTPStatus.INTERNAL_SERVER_ERROR, "The sandbox failed; see its stderr.")
        if self._dropped:
            return None
        return started[0], started[1], b"".join(chunks)

    def _respond(self, answer: Answer | None) -> None:
        """Send the whole answer in one write (see the module docstring for why one)."""
        if answer is None:  # dropped: the connection is already shut down
            self.close_connection = True
            return
        try:
            data = self._encode(*answer)
        except (TypeError, ValueError):  # a status or header the wire cannot carry
            traceback.print_exc(file=sys.stderr)
            failure = _failure(HTTPStatus.INTERNAL_SERVER_ERROR, "The sandbox sent a bad header.")
            data = self._encode(*failure)
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _encode(self, status: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
        code = int(status.split(None, 1)[0])
        if "\n" in status or "\r" in status:
            raise ValueError("the status holds a line break")
        head = self.command == "HEAD"
        bodyless = code < 200 or code in NO_BODY
        lines, given = [f"{self.protocol_version} {status}"], set()
        for name, value in headers:
            lower = name.lower()
            if lower in HOP_BY_HOP or (lower == "content-length" and (bodyless or not head)):
                continue  # the server frames the body itself; HEAD keeps the app's length
            if "\n" in name + value or "\r" in name + value:
                raise ValueError(f"header {name!r} holds a line break")
            given.add(lower)
            lines.append(f"{name}: {value}")
        if not bodyless and "content-length" not in given:
            lines.append(f"Content-Length: {len(body)}")
        if "date" not in given:
            lines.append(f"Date: {self.date_time_string()}")
        if "server" not in given:
            lines.append(f"Server: {self.server_version}")
        if self.close_connection:
            lines.append("Connection: close")
        text = "\r\n".join(lines) + "\r\n\r\n"
        return text.encode("latin-1") + (b"" if bodyless or head else body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer a request the server itself rejects, in the sandbox's structured error shape."""
        self.close_connection = True
        self._respond(_failure(HTTPStatus(code), "; ".join(filter(None, (message, explain)))))

    def drop(self) -> None:
        """Close the connection without an answer, like a network fault (called by the app)."""
        self._dropped = True
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _failure(status: HTTPStatus, message: str) -> Answer:
    """An error answer in the sandbox's structured shape; 500 is named as the app names it."""
    code = "INTERNAL_ERROR" if status == HTTPStatus.INTERNAL_SERVER_ERROR else status.name
    body = {"error": {"code": code, "message": message or status.phrase, "details": []}}
    return (f"{status.value} {status.phrase}", [("Content-Type", "application/json")],
            json.dumps(body).encode())


class WSGIServer(socketserver.ThreadingMixIn, HTTPServer):
    """A threaded HTTP/1.1 server for one WSGI app; it tracks its open connections for stop()."""

    daemon_threads = True  # a client holding a connection open must not keep the process alive
    block_on_close = False

    def __init__(self, host: str, port: int, app: WSGIApp) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.app = app
        self.open_connections: set[socket.socket] = set()
        self.connections_accepted = 0
        self._lock = threading.Lock()
        super().__init__((host, port), KeepAliveHandler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # HTTPServer's also looks up the FQDN: slow, unused
        self.server_name, self.server_port = self.server_address[:2]

    def opened(self, connection: socket.socket) -> None:
        with self._lock:
            self.open_connections.add(connection)
            self.connections_accepted += 1

    def closed(self, connection: socket.socket) -> None:
        with self._lock:
            self.open_connections.discard(connection)

    def close_connections(self) -> None:
        """Shut every open connection: idle keep-alive readers wake up and their threads end."""
        with self._lock:
            connections = list(self.open_connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client that went away is not the server's error
        super().handle_error(request, client_address)
