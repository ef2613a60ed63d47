"""`planner sandbox`: run a local CRM+ sandbox in the foreground."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import click

from planner.sandbox.server import PUT_SEMANTICS, SandboxConfig, SandboxServer


def _load_seed(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    contacts = data.get("contacts") if isinstance(data, dict) else data
    if not isinstance(contacts, list):
        raise click.BadParameter('expected {"contacts": [...]} or a list of contacts', param_hint="--seed")
    return contacts


def _token_from(path: str | None) -> str | None:
    """The token kept in FILE, if FILE exists and holds one."""
    if not path:
        return None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            token = handle.read().strip()
        if token:
            return token
    return None


def _write_token(path: str, token: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep it on loopback: the sandbox is for one machine.")
@click.option("--port", type=int, default=8765, show_default=True,
              help="Port to listen on; 0 picks a free one (the URL line shows which).")
@click.option("--put-semantics", type=click.Choice(PUT_SEMANTICS), default="patch", show_default=True,
              help="How PUT treats fields the body omits: `patch` keeps them; `replace` clears "
                   "them (null, lists empty) and deletes the primary address. Under both, a list "
                   "present in the body replaces the stored list wholesale.")
@click.option("--string-typed", is_flag=True,
              help="Render booleans and numbers as strings, as the published spec types them "
                   "(writes still require natural JSON types).")
@click.option("--seed", "seed_file", type=click.Path(exists=True, dir_okay=False),
              help='Seed contacts from a JSON file {"contacts": [...]}: the GET shape with '
                   "`addresses` (all of them) in place of `address`.")
@click.option("--demo-contacts", type=click.IntRange(min=0), default=25, show_default=True,
              help="Without --seed, seed this many generated demo contacts (deterministic).")
@click.option("--state", "state_file", type=click.Path(dir_okay=False),
              help="Keep the contacts in FILE: loaded at start when it exists (the seed is then "
                   "ignored), rewritten atomically after every successful write.")
@click.option("--token-file", type=click.Path(dir_okay=False),
              help="Reuse the token stored in FILE, or write the new token there (mode 0600) so "
                   "other commands can read it with their --token-file.")
@click.option("--rate-limit", type=click.IntRange(min=1), default=5000, show_default=True,
              help="Requests allowed per window (the live API: 5,000 an hour per organisation); "
                   "beyond it: 429 with Retry-After.")
@click.option("--rate-window", type=click.FloatRange(min=0.001), default=3600.0, show_default=True,
              help="Length of the rate-limit window in seconds.")
@click.option("--latency", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Seconds to wait before answering each /api request.")
@click.option("--fault-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of /api requests answered by an injected fault: a 503 or a dropped "
                   "connection. A faulted request changes nothing.")
@click.option("--fault-seed", type=int, default=0, show_default=True,
              help="Seed of the fault draws: the same seed and requests give the same faults.")
@click.option("--access-log", is_flag=True, help="Print one line per /api request on stderr.")
def sandbox_command(host: str, port: int, put_semantics: str, string_typed: bool,
                    seed_file: str | None, demo_contacts: int, state_file: str | None,
                    token_file: str | None, rate_limit: int, rate_window: float, latency: float,
                    fault_rate: float, fault_seed: int, access_log: bool) -> None:
    """Run a local Virtuous CRM+ sandbox: a real HTTP server that behaves like the live API.

    It serves the Contact, ContactIndividual and ContactAddress endpoints, Find, Archive and
    Unarchive and the bulk FullContact query, with the behaviours that make updates dangerous:
    switchable PUT semantics, spec-vs-live typing, strictly increasing modifiedDateTimeUtc,
    every documented error shape (structured, legacy, plain-text 401), a rate limit with
    X-RateLimit-* headers, and injected latency and faults. Admin routes under /_admin/ (no
    token) show the request log, schedule faults and edit records as another writer would.

    It prints its URL and a fresh token (the sandbox's own; no real token is involved), then
    serves until Ctrl-C or SIGTERM.

    \b
    Examples:
      planner sandbox --port 0 --put-semantics replace
      planner sandbox --seed contacts.json --state .sandbox.json --token-file .sandbox-token

    \b
    Admin routes (no token, not rate-limited, not in the request log):
      GET|DELETE /_admin/requests       the request log (never holds the token)
      POST /_admin/faults               {"next": ["503", "drop", {"fault": "429", "retry_after": 0}]}
      GET /_admin/contacts/ID           the stored record, all addresses included
      POST /_admin/contacts/ID          {"writer": "Jo", "set": {...}, "individuals": {"ID": {...}}}
      DELETE /_admin/quota              start a fresh rate-limit window
    """
    contacts: list[dict] = []
    if state_file and os.path.exists(state_file):
        pass  # the saved state wins over any seed
    elif seed_file:
        contacts = _load_seed(seed_file)
    elif demo_contacts:
        from planner.sandbox.demodata import generate  # lazy: only needed without --seed
        contacts = generate(demo_contacts)
    config = SandboxConfig(put_semantics=put_semantics, string_typed=string_typed,
                           rate_limit=rate_limit, rate_window=rate_window, latency=latency,
                           fault_rate=fault_rate, fault_seed=fault_seed,
                           token=_token_from(token_file), state_file=state_file)
    try:
        server = SandboxServer(config, contacts=contacts, host=host, port=port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if token_file and config.token is None:
        _write_token(token_file, server.token)
    if access_log:
        server.on_request = lambda e: click.echo(
            f"{e['method']} {e['path']} -> {e['status'] or e['fault']}", err=True)
    click.echo(f"Sandbox CRM+ listening on {server.url}")
    click.echo(f"token: {server.token}")
    click.echo(f"export VIRTUOUS_API_URL={server.url}")
    click.echo(f"export VIRTUOUS_TOKEN={server.token}")
    click.echo(f"({put_semantics} PUT semantics, {len(server.store)} contacts; Ctrl-C to stop)", err=True)
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Sandbox stopped.", err=True)


if __name__ == "__main__":
    sandbox_command()


def spawn(*args: str, cwd: str | None = None) -> tuple[subprocess.Popen, str, str]:
    """Start `planner sandbox ARGS` as a subprocess; (process, url, token) once it listens.

    For the demo, benchmarks and end-to-end tests; stop it with process.terminate().
    """
    process = subprocess.Popen([sys.executable, "-m", "planner.sandbox.command", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               cwd=cwd)
    url = token = None
    assert process.stdout is not None
    for line in process.stdout:
        if "listening on" in line:
            url = line.rsplit(" ", 1)[-1].strip()
        elif line.startswith("token:"):
            token = line.split(":", 1)[1].strip()
        if url and token:
            return process, url, token
    process.kill()
    raise RuntimeError("the sandbox did not start: " + " ".join(args))
