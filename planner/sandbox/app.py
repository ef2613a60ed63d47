"""The sandbox's HTTP face: CRM+ routes, token check, quota, injected faults, request log, admin.

Every /api request passes, in order: injected latency, a scheduled or random fault, the Bearer
token, the quota; then its route. Admin routes (/_admin/...) skip all of that and are not
logged, so tests can arrange and inspect without disturbing what they measure.
"""
from __future__ import annotations

import copy
import json
import math
import random
import secrets
import sys
import threading
import time
import traceback
from collections import deque
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from planner import model
from planner.sandbox.store import SandboxError, detail

if TYPE_CHECKING:
    from planner.sandbox.server import SandboxServer

MAX_TAKE = 1000
DEFAULT_TAKE = 100
DENIED = "Authorization has been denied for this request."
GATEWAY_FAULTS = {"500": "INTERNAL_ERROR", "502": "BAD_GATEWAY", "503": "SERVICE_UNAVAILABLE",
                  "504": "GATEWAY_TIMEOUT"}
# "drop" closes the connection unanswered and changes nothing; "drop-after" handles the
# request (a write lands) and then closes the connection: the answer is lost, not the write.
FAULTS = (*GATEWAY_FAULTS, "429", "drop", "drop-after")


class Quota:
    """A fixed-window request budget, like the live organisation-wide limit."""

    def __init__(self, limit: int, window: float, clock=time.time) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.start, self.used = self.clock(), 0

    def _roll(self, now: float) -> None:
        if now >= self.start + self.window:
            self.start, self.used = now, 0

    def take(self) -> bool:
        """Count one request; False (and nothing counted) when the window is spent."""
        with self.lock:
            self._roll(self.clock())
            if self.used >= self.limit:
                return False
            self.used += 1
            return True

    def headers(self) -> dict[str, str]:
        with self.lock:
            self._roll(self.clock())
            reset = self.start + self.window
            return {"X-RateLimit-Limit": str(self.limit),
                    "X-RateLimit-Remaining": str(max(0, self.limit - self.used)),
                    "X-RateLimit-Reset": str(math.ceil(reset))}

    def retry_after(self) -> int:
        with self.lock:
            return max(1, math.ceil(self.start + self.window - self.clock()))


class Faults:
    """Faults to inject: a queue scheduled by tests first, then random ones from a seed."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self.random = random.Random(seed)
        self.queue: deque[dict] = deque()
        self.lock = threading.Lock()

    @staticmethod
    def parse(item: Any) -> dict:
        fate = {"fault": item} if isinstance(item, str) else dict(item) if isinstance(item, dict) else {}
        if str(fate.get("fault")) not in FAULTS:
            raise SandboxError(400, "INVALID_PARAMETER", f"Unknown fault {item!r}; use one of {FAULTS}.")
        retry = fate.get("retry_after", 1)
        if not isinstance(retry, int) or isinstance(retry, bool) or retry < 0:
            raise SandboxError(400, "INVALID_PARAMETER", "retry_after must be a whole number >= 0.")
        return {"fault": str(fate["fault"]), "retry_after": retry}

    def schedule(self, items: list) -> None:
        fates = [self.parse(item) for item in items]
        with self.lock:
            self.queue.extend(fates)

    def next(self) -> dict | None:
        with self.lock:
            if self.queue:
                return self.queue.popleft()
            if self.rate > 0 and self.random.random() < self.rate:
                return {"fault": "503" if self.random.random() < 0.5 else "drop", "retry_after": 1}
        return None


def _scrub(value: Any, token: str) -> Any:
    """The value with any string holding the token masked: the log never carries it."""
    if isinstance(value, str):
        return value.replace(token, "[token]") if token and token in value else value
    if isinstance(value, list):
        return [_scrub(v, token) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, token) for k, v in value.items()}
    return value


def string_typed(value: Any) -> Any:
    """Booleans and numbers as strings, the way the published spec types every field."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return [string_typed(v) for v in value]
    if isinstance(value, dict):
        return {k: string_typed(v) for k, v in value.items()}
    return value


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "value")


def check_body(resource: str, body: Any, path: str = "") -> list[dict]:
    """400-level problems of a write body: unknown fields and values not of the natural type."""
    if not isinstance(body, dict):
        return [detail(path.rstrip(".") or None, "WRONG_TYPE",
                       f"expected an object, got {_json_kind(body)}")]
    problems, fields = [], model.fields(resource)
    for name, value in body.items():
        f, where = fields.get(name), f"{path}{name}"
        if f is None:
            problems.append(detail(where, "UNKNOWN_FIELD", f"{resource} has no field {name!r}"))
            continue
        if f.read_only and not (name == "id" and path and f.kind == "integer"):
            continue  # read-only values are ignored; nested ids still match items, so type them
        if value is None and (f.nullable or name == "id"):
            continue
        if value is None or not model.is_of_kind(value, f.kind):
            problems.append(detail(where, "WRONG_TYPE", f"expected {f.kind}"
                                   f"{' or null' if f.nullable else ''}, got {_json_kind(value)}"))
        elif f.kind == "object" and f.item:
            problems += check_body(f.item, value, f"{where}.")
        elif f.kind == "array":
            item_kind = (model.load_schema()["properties"][name].get("items", {}).get("type")
                         if resource == "Contact" else None)
            for i, item in enumerate(value):
                if f.item:
                    problems += check_body(f.item, item, f"{where}[{i}].")
                elif item_kind and not model.is_of_kind(item, item_kind):
                    problems.append(detail(f"{where}[{i}]", "WRONG_TYPE",
                                           f"expected {item_kind}, got {_json_kind(item)}"))
    return problems


def error_response(error: SandboxError) -> Response:
    if error.legacy:  # the older endpoints' shape: {"message", "errors": {field: [msgs]}}
        errors: dict[str, list[str]] = {}
        for item in error.details or [detail("", error.code, error.message)]:
            errors.setdefault(item["field"] or "", []).append(item["message"])
        body = {"message": "The request is invalid.", "errors": errors}
    else:
        body = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    return Response(json.dumps(body), error.status, mimetype="application/json")


def create_app(server: SandboxServer) -> Flask:
    """The Flask application of one sandbox server."""
    app = Flask("planner.sandbox")
    store, config = server.store, server.config

    def answer(value: Any) -> Response:
        if config.string_typed:  # read per request, like the semantics: tests may switch it
            value = string_typed(value)
        return Response(json.dumps(value), 200, mimetype="application/json")

    def semantics() -> str:
        return config.put_semantics

    def body_of(resource: str | None, legacy: bool = False, empty: Any = None) -> Any:
        raw = request.get_data(cache=True)
        if not raw.strip() and empty is not None:
            return empty
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SandboxError(400, "MALFORMED_JSON", f"The request body is not valid JSON: {exc}.",
                               [detail(None, "MALFORMED_JSON", str(exc))], legacy=legacy) from None
        problems = check_body(resource, body) if resource else []
        if problems:
            raise SandboxError(400, problems[0]["code"], "The request body does not fit "
                               f"{resource}: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems),
                               problems, legacy=legacy)
        return body

    # -- the gate every /api request passes ---------------------------------------------------
    @app.before_request
    def gate() -> Response | None:
        if not request.path.startswith("/api/"):
            return None
        request.get_data(cache=True)  # read now: a dropped connection cannot be read later
        if config.latency:
            time.sleep(config.latency)
        fate = server.faults.next()
        g.fault = fate["fault"] if fate else None
        if g.fault == "drop":
            return Response(b"", 500)  # never reaches the client: finish() drops the connection
        if g.fault == "429":
            error = SandboxError(429, "RATE_LIMIT_EXCEEDED", "Too many requests (injected).")
            return _with(error_response(error), {"Retry-After": str(fate["retry_after"])})
        if g.fault in GATEWAY_FAULTS:
            status = int(g.fault)
            return error_response(SandboxError(status, GATEWAY_FAULTS[g.fault],
                                               "The service is temporarily unavailable (injected)."))
        supplied = request.headers.get("Authorization", "")
        if not secrets.compare_digest(supplied.encode(), f"Bearer {server.token}".encode()):
            return Response(DENIED, 401, mimetype="text/plain",
                            headers={"WWW-Authenticate": "Bearer"})
        if not server.quota.take():
            error = SandboxError(429, "RATE_LIMIT_EXCEEDED", "API rate limit exceeded; retry later.")
            return _with(error_response(error), {"Retry-After": str(server.quota.retry_after())})
        return None

    @app.after_request
    def finish(response: Response) -> Response:
        if not request.path.startswith("/api/"):
            return response
        for name, value in server.quota.headers().items():
            response.headers.setdefault(name, value)
        raw = request.get_data(cache=True)
        try:
            body = json.loads(raw) if raw.strip() else None
        except (ValueError, UnicodeDecodeError):
            body = raw.decode("utf-8", "replace")
        fault = getattr(g, "fault", None)
        server.log_request(_scrub({
            "method": request.method, "path": request.path, "query": request.args.to_dict(),
            "body": body, "status": None if fault in ("drop", "drop-after") else response.status_code,
            "fault": fault, "time": time.time()}, server.token))
        if fault in ("drop", "drop-after"):  # logged first, so the log keeps request order
            request.environ["sandbox.drop"]()
        return response

    @app.errorhandler(SandboxError)
    def sandbox_error(error: SandboxError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = "NOT_FOUND" if error.code == 404 else (error.name or "ERROR").upper().replace(" ", "_")
        return error_response(SandboxError(error.code or 500, code, error.description or error.name))

    @app.errorhandler(Exception)
    def crash(error: Exception) -> Response:
        traceback.print_exception(error, file=sys.stderr)
        return error_response(SandboxError(500, "INTERNAL_ERROR", "The sandbox failed; see its stderr."))

    # -- CRM+ routes ---------------------------------------------------------------------------
    @app.get("/api/Contact/<int:cid>")
    def get_contact(cid: int) -> Response:
        return answer(store.contact(cid))

    @app.put("/api/Contact/<int:cid>")
    def put_contact(cid: int) -> Response:
        return answer(store.put_contact(cid, body_of("Contact"), semantics()))

    @app.get("/api/Contact/Find")
    def find_contact() -> Response:
        email = request.args.get("email")
        source, ref = request.args.get("referenceSource"), request.args.get("referenceId")
        if email:
            return answer(store.find_email(email))
        if source and ref:
            return answer(store.find_reference(source, ref))
        raise SandboxError(400, "MISSING_PARAMETER", "Give email, or referenceSource and referenceId.",
                           [detail("email", "MISSING_PARAMETER", "required without a reference")])

    @app.put("/api/Contact/Archive/<int:cid>")
    def archive(cid: int) -> Response:
        return answer(store.set_archived(cid, True))

    @app.put("/api/Contact/Unarchive/<int:cid>")
    def unarchive(cid: int) -> Response:
        return answer(store.set_archived(cid, False))

    @app.post("/api/Contact/Query/FullContact")
    def query() -> Response:
        paging = {}
        for name, default in (("skip", 0), ("take", DEFAULT_TAKE)):
            text = request.args.get(name, str(default))
            if not text.strip().isdigit():
                raise SandboxError(400, "INVALID_PARAMETER", f"{name} must be a whole number >= 0.",
                                   [detail(name, "INVALID_PARAMETER", f"got {text!r}")])
            paging[name] = int(text)
        if paging["take"] > MAX_TAKE:
            raise SandboxError(400, "INVALID_PARAMETER", f"take must be at most {MAX_TAKE}.",
                               [detail("take", "INVALID_PARAMETER", f"at most {MAX_TAKE}")])
        body = body_of(None, empty={})
        if not isinstance(body, dict) or not isinstance(body.get("groups", []), list):
            raise SandboxError(400, "WRONG_TYPE", "The query must be an object with a groups list.",
                               [detail("groups", "WRONG_TYPE", "expected an array")])
        result = store.query(body, paging["skip"], paging["take"])
        if config.string_typed:  # the contacts as the spec types them; the envelope stays natural
            result["list"] = string_typed(result["list"])
        return Response(json.dumps(result), mimetype="application/json")

    @app.get("/api/ContactIndividual/<int:iid>")
    def get_individual(iid: int) -> Response:
        return answer(store.individual(iid))

    @app.put("/api/ContactIndividual/<int:iid>")
    def put_individual(iid: int) -> Response:
        return answer(store.put_individual(iid, body_of("ContactIndividual"), semantics()))

    @app.get("/api/ContactIndividual/ByContact/<int:cid>")
    def individuals_of(cid: int) -> Response:
        return answer(store.individuals_of(cid))

    @app.get("/api/ContactAddress/<int:aid>")
    def get_address(aid: int) -> Response:
        return answer(store.address(aid))

    @app.put("/api/ContactAddress/<int:aid>")
    def put_address(aid: int) -> Response:
        return answer(store.put_address(aid, body_of("ContactAddress", legacy=True), semantics()))

    @app.get("/api/ContactAddress/ByContact/<int:cid>")
    def addresses_of(cid: int) -> Response:
        return answer(store.addresses_of(cid))

    # -- admin routes: no token, no quota, no faults, not logged --------------------------------
    @app.get("/_admin/requests")
    def admin_requests() -> Response:
        return Response(json.dumps({"requests": server.requests}), mimetype="application/json")

    @app.delete("/_admin/requests")
    def admin_clear_requests() -> Response:
        server.clear_log()
        return Response(status=204)

    @app.route("/_admin/faults", methods=["GET", "POST", "DELETE"])
    def admin_faults() -> Response:
        if request.method == "POST":
            body = body_of(None)
            if not isinstance(body, dict) or not isinstance(body.get("next"), list):
                raise SandboxError(400, "WRONG_TYPE", 'Send {"next": ["503", "drop", ...]}.')
            server.faults.schedule(body["next"])
        elif request.method == "DELETE":
            with server.faults.lock:
                server.faults.queue.clear()
        with server.faults.lock:
            queued = list(server.faults.queue)
        return Response(json.dumps({"queued": queued}), mimetype="application/json")

    @app.delete("/_admin/quota")
    def admin_reset_quota() -> Response:
        server.quota.reset()
        return Response(status=204)

    @app.get("/_admin/contacts/<int:cid>")
    def admin_contact(cid: int) -> Response:
        return Response(json.dumps(store.raw(cid)), mimetype="application/json")

    @app.post("/_admin/contacts/<int:cid>")
    def admin_edit(cid: int) -> Response:
        body = body_of(None)
        if not isinstance(body, dict):
            raise SandboxError(400, "WRONG_TYPE", 'Send {"writer": ..., "set": {...}, ...}.')
        changes = copy.deepcopy(body)
        writer = changes.pop("writer", None) or "another writer"
        return Response(json.dumps(store.admin_edit(cid, writer, changes)), mimetype="application/json")

    return app


def _with(response: Response, headers: dict[str, str]) -> Response:
    response.headers.update(headers)
    return response
