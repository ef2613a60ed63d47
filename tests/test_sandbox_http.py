"""The sandbox's HTTP server (planner.sandbox.wsgi): keep-alive, one-write answers, framing by
Content-Length, dropped connections, a proper WSGI environ, and errors that do not stop it."""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest
import requests

from planner.sandbox.wsgi import WSGIServer


def _raw(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(data)
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


@pytest.fixture
def serve():
    """serve(app) -> a started WSGIServer for a bare WSGI app; all are stopped at teardown."""
    servers: list[WSGIServer] = []

    def start(app) -> WSGIServer:
        server = WSGIServer("127.0.0.1", 0, app)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                         daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.close_connections()
        server.server_close()


# -- keep-alive --------------------------------------------------------------------------------
def test_one_session_keeps_one_connection(sandbox, api):
    session = api(sandbox)
    ports = set()
    for _ in range(10):
        answer = session.get(f"{sandbox.url}/api/Contact/1", stream=True)
        assert answer.status_code == 200 and "Connection" not in answer.headers
        ports.add(answer.raw._connection.sock.getsockname()[1])
        answer.content  # read it all so the connection goes back to the pool
    session.put(f"{sandbox.url}/api/Contact/1", json={"description": "kept"}).raise_for_status()
    assert len(ports) == 1
    assert sandbox.connections_accepted == 1


def test_500_gets_over_one_session_take_well_under_2_s(sandbox, api):
    session = api(sandbox)
    session.get(f"{sandbox.url}/api/Contact/1")
    start = time.perf_counter()
    for _ in range(500):
        assert session.get(f"{sandbox.url}/api/Contact/1").status_code == 200
    elapsed = time.perf_counter() - start
    # ~1 ms each on 2 cores, most of it requests' own work; a 40 ms stall per request
    # (Nagle + delayed ACK on an answer written in two pieces) would take 20 s
    assert elapsed < 2, f"500 GETs took {elapsed:.2f} s"
    assert sandbox.connections_accepted == 1


def test_connection_close_is_honoured_and_http_1_0_gets_close(sandbox):
    with requests.Session() as session:
        for count in (1, 2):
            answer = session.get(f"{sandbox.url}/_admin/requests", headers={"Connection": "close"})
            assert answer.status_code == 200 and answer.headers["Connection"] == "close"
            assert sandbox.connections_accepted == count
    for extra in (b"", b"Connection: keep-alive\r\n"):  # HTTP/1.0 gets close even when asking
        reply = _raw(sandbox.port, b"GET /_admin/requests HTTP/1.0\r\n" + extra + b"\r\n")
        head, _, body = reply.partition(b"\r\n\r\n")  # _raw returned: the server closed
        assert head.startswith(b"HTTP/1.1 200 ") and b"\r\nConnection: close" in head
        assert json.loads(body) == {"requests": []}


def test_pipelined_requests_are_framed_by_content_length(sandbox):
    body = b'{"description": "one"}'
    first = (b"PUT /api/Contact/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
             sandbox.token.encode() + b"\r\nContent-Type: application/json\r\n"
             b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    second = b"GET /_admin/contacts/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    reply = _raw(sandbox.port, first + second)
    assert reply.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert reply.rstrip().endswith(b"}") and b'"description": "one"' in reply.split(b"\r\n\r\n")[-1]
    assert sandbox.connections_accepted == 1


def test_stop_is_quick_with_an_idle_kept_alive_connection(make_sandbox, api):
    server = make_sandbox()
    session = api(server)
    assert session.get(f"{server.url}/api/Contact/1").status_code == 200
    start = time.perf_counter()
    server.stop()
    assert time.perf_counter() - start < 1
    with pytest.raises(requests.ConnectionError):
        session.get(f"{server.url}/api/Contact/1", timeout=2)


# -- the sandbox's faults on kept-alive connections --------------------------------------------
def test_a_drop_on_a_kept_alive_connection_still_drops(sandbox, api):
    session = api(sandbox)
    assert session.get(f"{sandbox.url}/api/Contact/1").status_code == 200
    sandbox.schedule_faults("drop")
    with pytest.raises(requests.ConnectionError):
        session.put(f"{sandbox.url}/api/Contact/1", json={"description": "lost"})
    assert sandbox.contact(1)["description"] == "Long-time supporters"
    sandbox.schedule_faults("drop-after")
    with pytest.raises(requests.ConnectionError):
        session.put(f"{sandbox.url}/api/Contact/1", json={"description": "landed"})
    assert sandbox.contact(1)["description"] == "landed"
    assert session.get(f"{sandbox.url}/api/Contact/1").status_code == 200  # a new connection
    assert sandbox.connections_accepted == 3
    assert [r["fault"] for r in sandbox.requests] == [None, "drop", "drop-after", None]


# -- bodies, query strings, paths --------------------------------------------------------------
def test_bodies_and_percent_encoding_over_one_connection(sandbox, api):
    session = api(sandbox)
    url = f"{sandbox.url}/api"
    changed = session.put(f"{url}/ContactIndividual/12", json={
        "contactMethods": [{"id": 104, "value": "jo+tag@example.org"}]})
    assert changed.status_code == 200, changed.text
    found = session.get(f"{url}/Contact/Find?email=jo%2Btag%40example.org")
    assert found.status_code == 200 and found.json()["id"] == 1
    assert session.get(f"{url}/Contact/Find?email=jo+tag@example.org").status_code == 404  # + is a space
    sandbox.writer_edit(2, contactReferences=[{"source": "Gift Shop & Café", "id": "A/1+2"}])
    found = session.get(f"{url}/Contact/Find",
                        params={"referenceSource": "Gift Shop & Café", "referenceId": "A/1+2"})
    assert found.status_code == 200 and found.json()["id"] == 2
    assert session.get(f"{url}/Contact/%31").json()["id"] == 1  # the path is percent-decoded
    page = session.post(f"{url}/Contact/Query/FullContact?skip=1&take=1", json={
        "groups": [{"conditions": [{"parameter": "Contact Id", "operator": "Greater Than",
                                    "value": "0"}]}]})
    assert page.json()["total"] == 3 and [c["id"] for c in page.json()["list"]] == [2]
    assert sandbox.requests[-1]["query"] == {"skip": "1", "take": "1"}
    assert sandbox.connections_accepted == 1


def test_a_chunked_body_arrives_whole(sandbox, api):
    parts = (p for p in (b'{"descrip', b'tion": "in ', b'pieces"}'))  # a generator: sent chunked
    answer = api(sandbox).put(f"{sandbox.url}/api/Contact/1", data=parts,
                              headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert sandbox.contact(1)["description"] == "in pieces"
    assert sandbox.requests[-1]["body"] == {"description": "in pieces"}


def test_head_keeps_the_length_and_sends_no_body(sandbox):
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    conn.request("HEAD", "/_admin/contacts/1")
    head = conn.getresponse()
    assert head.status == 200 and head.read() == b""
    length = int(head.getheader("Content-Length"))
    conn.request("GET", "/_admin/contacts/1")  # the same connection: framing stayed right
    assert len(conn.getresponse().read()) == length > 0
    conn.close()
    assert sandbox.connections_accepted == 1


# -- what the server rejects, and clients that misbehave -----------------------------------------
@pytest.mark.parametrize("request_bytes, status", [
    (b"NONSENSE\r\n\r\n", 400),
    (b"GET / HTTP/1.1 extra\r\n\r\n", 400),
    (b"GET /x HTTP/2.0\r\n\r\n", 505),
    (b"GET /x\r\n\r\n", 400),  # HTTP/0.9
    (b"PUT /api/Contact/1 HTTP/1.1\r\nContent-Length: ten\r\n\r\n", 400),
    (b"PUT /api/Contact/1 HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400),
    (b"PUT /api/Contact/1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),
])
def test_malformed_requests_get_a_json_error_and_the_server_goes_on(sandbox, api, capfd,
                                                                     request_bytes, status):
    reply = _raw(sandbox.port, request_bytes)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), head
    assert b"\r\nConnection: close" in head
    assert json.loads(body)["error"]["code"]
    assert api(sandbox).get(f"{sandbox.url}/api/Contact/1").status_code == 200
    assert sandbox.requests[0]["method"] == "GET" and len(sandbox.requests) == 1
    assert capfd.readouterr().err == ""  # neither an access log nor an error log


def test_a_client_gone_mid_body_does_not_reach_the_app(sandbox, api):
    with socket.create_connection(("127.0.0.1", sandbox.port)) as conn:
        conn.sendall(b"PUT /api/Contact/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     sandbox.token.encode() + b"\r\nContent-Length: 100\r\n\r\n{\"descr")
    _wait_until(lambda: not sandbox._http.open_connections)
    assert sandbox.requests == []
    assert api(sandbox).get(f"{sandbox.url}/api/Contact/1").status_code == 200


def test_no_access_log_on_stderr(sandbox, api, capfd):
    session = api(sandbox)
    for path in ("/api/Contact/1", "/api/Contact/99", "/_admin/requests", "/nowhere"):
        session.get(f"{sandbox.url}{path}")
    session.put(f"{sandbox.url}/api/Contact/1", data=b"{", headers={"Content-Type": "application/json"})
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


# -- the WSGI contract, with bare apps -----------------------------------------------------------
ENVIRON_KEYS = ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
                "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR",
                "HTTP_HOST", "HTTP_X_TRACE", "HTTP_ACCEPT", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH",
                "wsgi.url_scheme", "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once")


def _echo(environ, start_response):
    seen = {key: environ.get(key) for key in ENVIRON_KEYS}
    seen["input"] = environ["wsgi.input"].read().decode("latin-1")
    seen["version"] = list(environ["wsgi.version"])
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


def test_the_environ_follows_pep_3333(serve):
    server = serve(_echo)
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
    conn.request("POST", "/caf%C3%A9/a%2Fb?x=%C3%A9&y=a+b", body=b"hello",
                 headers={"Content-Type": "text/plain", "X-Trace": "7", "Accept": "a/b",
                          "X_Trace": "forged"})  # underscore names are dropped, not merged
    seen = json.loads(conn.getresponse().read())
    assert seen == {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "",
        "PATH_INFO": "/caf\u00c3\u00a9/a/b",  # the UTF-8 bytes of "é", each as one latin-1 char
        "QUERY_STRING": "x=%C3%A9&y=a+b", "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "5",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(server.server_port),
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": f"127.0.0.1:{server.server_port}", "HTTP_X_TRACE": "7", "HTTP_ACCEPT": "a/b",
        "HTTP_CONTENT_TYPE": None, "HTTP_CONTENT_LENGTH": None,
        "wsgi.url_scheme": "http", "wsgi.multithread": True, "wsgi.multiprocess": False,
        "wsgi.run_once": False, "input": "hello", "version": [1, 0]}
    conn.request("GET", "/")  # the same connection, no body
    seen = json.loads(conn.getresponse().read())
    assert seen["CONTENT_LENGTH"] is None and seen["input"] == "" and seen["PATH_INFO"] == "/"
    conn.close()
    assert server.connections_accepted == 1


def _fragile(environ, start_response):
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("kaboom")
    if environ["PATH_INFO"] == "/mute":
        return [b"never started"]
    if environ["PATH_INFO"] == "/split":
        start_response("200 OK", [("Bad", "a\r\nInjected: 1")])
        return [b"x"]
    if environ["PATH_INFO"] == "/empty":
        start_response("204 No Content", [("Content-Length", "9")])
        return [b"ignored"]
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"written, ")
    return [b"then ", b"returned"]


def test_app_failures_are_500_json_and_the_connection_lives_on(serve, capfd):
    server = serve(_fragile)
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
    for path in ("/boom", "/mute", "/split"):
        conn.request("GET", path)
        answer = conn.getresponse()
        assert answer.status == 500 and answer.getheader("Injected") is None
        assert json.loads(answer.read())["error"]["code"] == "INTERNAL_ERROR"
    conn.request("GET", "/empty")
    answer = conn.getresponse()
    assert answer.status == 204 and answer.getheader("Content-Length") is None and answer.read() == b""
    conn.request("GET", "/fine")
    answer = conn.getresponse()
    assert answer.status == 200 and answer.read() == b"written, then returned"
    conn.close()
    assert server.connections_accepted == 1
    err = capfd.readouterr().err
    assert "RuntimeError: kaboom" in err and "start_response" in err and "line break" in err
