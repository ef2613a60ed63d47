"""The command line: parse options, build the context, call the core, print its result.

Exceptions become exit codes and one-line messages in exactly one place: PlannerGroup.invoke.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import click

from planner import __version__, planfile
from planner.config import Settings
from planner.errors import ExitStatus, PlannerError

EPILOG = """\b
Environment:
  VIRTUOUS_API_URL  API base URL (default https://api.virtuoussoftware.com)
  VIRTUOUS_TOKEN    API token (or --token-file); never printed, logged or stored
  NO_COLOR          disable colour
\b
Exit codes: 0 success, 1 error, 2 changes present (--detailed-exitcode),
            3 stale plan refused.
"""


class PlannerGroup(click.Group):
    """The command group; maps every planner error to its exit code and a one-line message."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.exit_code = int(ExitStatus.ERROR)  # 2 means "changes present" here
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PlannerError as exc:
            click.echo(f"Error: {exc.one_line()}", err=True)
            ctx.exit(int(exc.exit_status))
        except click.UsageError as exc:
            exc.exit_code = int(ExitStatus.ERROR)  # 2 means "changes present" here
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(int(ExitStatus.ERROR))
        except Exception as exc:  # a bug: one line, the traceback only on request
            if os.environ.get("PLANNER_DEBUG"):
                raise
            click.echo(f"Internal error: {type(exc).__name__}: {exc} "
                       "(set PLANNER_DEBUG=1 for details; please report it)", err=True)
            ctx.exit(int(ExitStatus.ERROR))


@dataclass
class Env:
    """What commands need from the outside world; tests build their own."""

    options: dict = field(default_factory=dict)
    environ: dict | None = None
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings(self.options, self.environ)
        return self._settings

    def client(self):
        from planner.client import Client
        return Client(self.settings["api_url"], self.settings.token())

    def color(self, no_color: bool) -> bool:
        environ = os.environ if self.environ is None else self.environ
        if no_color or "NO_COLOR" in environ:
            return False
        return click.get_text_stream("stdout").isatty()


pass_env = click.make_pass_decorator(Env, ensure=True)


BULK_READ = click.option(
    "--bulk-read", is_flag=True, default=None,
    help="Read the contacts named by id through the bulk query (POST /api/Contact/Query/"
         "FullContact), 1,000 per request, instead of one GET each [config bulk_read].")


def api_options(func: Callable) -> Callable:
    """--api-url and --token-file, for the commands that talk to the API."""
    func = click.option("--token-file", type=click.Path(dir_okay=False),
                        help="Read the API token from this file instead of VIRTUOUS_TOKEN.")(func)
    func = click.option("--api-url", metavar="URL",
                        help="API base URL [env VIRTUOUS_API_URL; default the live API].")(func)
    return func


def remember(env: Env, **options: Any) -> None:
    """Record command-line options; they win over environment, planner.toml and defaults."""
    for name, value in options.items():
        if value not in (None, ()):
            env.options[name] = list(value) if isinstance(value, tuple) else value
            env._settings = None  # settings are derived from the options: derive them again


@click.group(cls=PlannerGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="planner")
@click.option("-v", "--verbose", count=True,
              help="Log each request to stderr (-v); also request bodies (-vv). Never the token.")
def cli(verbose: int) -> None:
    """Declarative, reviewable changes to Virtuous CRM+ Contacts.

    \b
    Keep one YAML desired-state file per contact under plans/, naming only the
    fields you manage. Then:
      planner validate            check the files offline (no token, no request)
      planner plan                read the live records and show what would change
      planner plan -o plan.json   ...and save the plan for review
      planner apply plan.json     apply exactly that plan (refused if stale)
    Try it safely against the embedded sandbox: `planner sandbox --help`.
    """
    if verbose:
        import logging

        logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.INFO,
                            format="planner: %(message)s", stream=sys.stderr, force=True)
        logging.getLogger("urllib3").setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)


# -- validate -----------------------------------------------------------------------------
@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@pass_env
def validate(env: Env, paths: tuple[str, ...]) -> None:
    """Check desired-state files offline: no token, no request.

    PATHS are files or directories (searched recursively for *.yaml / *.yml);
    default: the configured plans directory (plans/). Each problem is printed
    as one line `FILE: PATH: message`; the exit code is 1 if there is any.
    """
    from planner.desired import validate_paths

    remember(env, plans=paths)
    contacts, errors = validate_paths(env.settings["plans"])
    for error in errors:
        click.echo(error.one_line(), err=True)
    if errors:
        click.echo(f"{len(errors)} problem{'s' * (len(errors) != 1)} found.", err=True)
        raise click.exceptions.Exit(int(ExitStatus.ERROR))
    click.echo(f"{len(contacts)} desired-state file{'s' * (len(contacts) != 1)} valid.")


# -- plan ---------------------------------------------------------------------------------
def write_parts(plan, directory: str, env: Env) -> None:
    """--split: numbered markdown parts, each small enough for a pull-request comment."""
    from planner.render import markdown

    parts = markdown.split(plan, sensitive=env.settings["sensitive_fields"])
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.md"):
        old.unlink()
    for number, part in enumerate(parts, 1):
        (folder / f"part-{number:03d}.md").write_text(part, encoding="utf-8")
    click.echo(f"Wrote {len(parts)} markdown part{'s' * (len(parts) != 1)} to {folder}/", err=True)


def render(plan, fmt: str, color: bool, env: Env) -> str:
    if fmt == "json":
        return planfile.dumps(plan)
    sensitive = env.settings["sensitive_fields"]
    if fmt == "markdown":
        from planner.render import markdown
        return markdown.render(plan, sensitive=sensitive)
    from planner.render import text
    return text.render(plan, color=color, sensitive=sensitive)


FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
                      default="text", show_default=True, help="Output format.")
AUDIT_DIR = click.option("--audit-dir", type=click.Path(file_okay=False),
                         help="Where audit records are kept [config audit_dir; default audit/].")
SPLIT = click.option("--split", "split_dir", type=click.Path(file_okay=False), metavar="DIR",
                     help="Also write the plan as numbered markdown parts (part-001.md, ...), "
                          "each within a pull-request comment's size.")
NO_COLOR = click.option("--no-color", is_flag=True, help="No colour (also: NO_COLOR set).")


def build_plan(env: Env, paths: tuple[str, ...]):
    """Load the desired files, read the live records, plan: the whole read-only pipeline."""
    from planner.desired import load_paths
    from planner.fetch import fetch_live
    from planner.plan import make_plan

    remember(env, plans=paths)
    desired = load_paths(env.settings["plans"])
    client = env.client()
    pairs = fetch_live(client, desired, bulk=env.settings["bulk_read"])
    sources = sorted({(d.file, d.sha256) for d in desired})
    return make_plan(pairs, sources), desired, client


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False),
              help="Also save the plan to this file, for `planner show` and `planner apply`.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when there are changes, 0 when there are none.")
@FORMAT
@SPLIT
@NO_COLOR
@BULK_READ
@api_options
@pass_env
def plan(env: Env, paths, out, detailed_exitcode, fmt, split_dir, no_color, bulk_read, api_url,
         token_file) -> None:
    """Show what apply would change; writes nothing to the CRM.

    Reads each contact named by the desired-state files under PATHS (default
    plans/) with one GET per contact, normalises both sides and prints a
    field-level diff: `~` changed, `+` added, `-` removed, then a summary with
    the number of requests apply would make.
    """
    remember(env, api_url=api_url, token_file=token_file, bulk_read=bulk_read)
    the_plan, _, _ = build_plan(env, paths)
    if the_plan.unplannable:
        click.echo(render(the_plan, fmt, env.color(no_color), env), nl=False)
        raise UnplannableContacts(the_plan)
    if out:
        planfile.write(out, the_plan)
    click.echo(render(the_plan, fmt, env.color(no_color), env), nl=False)
    if split_dir:
        write_parts(the_plan, split_dir, env)
    if out:
        click.echo(f"Saved the plan to {out}; apply it with: planner apply {out}", err=True)
    if detailed_exitcode and not the_plan.is_empty:
        raise click.exceptions.Exit(int(ExitStatus.CHANGES_PRESENT))


# -- show ---------------------------------------------------------------------------------
@cli.command()
@click.argument("planfile_path", metavar="PLANFILE", type=click.Path(exists=True, dir_okay=False))
@FORMAT
@SPLIT
@NO_COLOR
@pass_env
def show(env: Env, planfile_path: str, fmt: str, split_dir, no_color: bool) -> None:
    """Render a saved plan file (checked against its checksum); no token, no request."""
    the_plan, _ = planfile.read(planfile_path)
    click.echo(render(the_plan, fmt, env.color(no_color), env), nl=False)
    if split_dir:
        write_parts(the_plan, split_dir, env)


# -- apply --------------------------------------------------------------------------------
class UnplannableContacts(PlannerError):
    """Some contacts could not be read completely: nothing is saved or applied."""

    def __init__(self, plan) -> None:
        count = len(plan.unplannable)
        super().__init__(f"{count} contact{'s' * (count != 1)} could not be planned (see above); "
                         "no plan was saved and nothing was applied")


def _is_plan_file(paths: tuple[str, ...]) -> bool:
    return (len(paths) == 1 and Path(paths[0]).is_file()
            and Path(paths[0]).suffix.lower() not in (".yaml", ".yml"))


@cli.command()
@click.argument("target", nargs=-1, type=click.Path(), metavar="[PLANFILE | PATH...]")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--strict", is_flag=True,
              help="Refuse a saved plan if a contact was modified at all since planning "
                   "(default: refuse only if a field the plan changes was modified).")
@AUDIT_DIR
@NO_COLOR
@BULK_READ
@api_options
@pass_env
def apply(env: Env, target, auto_approve, strict, audit_dir, no_color, bulk_read, api_url,
          token_file) -> None:
    """Apply a saved plan, or plan PATHs and apply after confirmation.

    \b
    Every write is GET-then-PUT of the complete record, safe whether the API
    treats PUT as replace or as patch. Before writing anything, every contact is
    read again: if a field the plan changes no longer holds the value the plan
    saw, nothing is written and the exit code is 3. After its writes, each
    contact is read and planned again and must show no change.
    """
    from planner import report
    from planner.apply import Executor
    from planner.audit import AuditLog

    remember(env, api_url=api_url, token_file=token_file, bulk_read=bulk_read,
             audit_dir=audit_dir)
    color = env.color(no_color)
    if _is_plan_file(target):
        the_plan, checksum = planfile.read(target[0])
        client = env.client()
    else:
        the_plan, _, client = build_plan(env, target)
        checksum = planfile.to_document(the_plan)["checksum"]
        click.echo(render(the_plan, "text", color, env), nl=False)
        if the_plan.unplannable:
            raise UnplannableContacts(the_plan)
        if the_plan.is_empty:
            return
        if not auto_approve:
            answer = click.prompt("\nApply these changes? Only 'yes' proceeds", default="",
                                  show_default=False)
            if answer.strip() != "yes":
                click.echo("Apply cancelled; nothing was written.")
                return
    if the_plan.is_empty:
        click.echo("No changes to apply.")
        return
    audit = AuditLog(env.settings["audit_dir"], plan_checksum=checksum,
                     files=sorted({c.file for c in the_plan.changed if c.file.endswith(
                         (".yaml", ".yml"))}), api_url=env.settings["api_url"])
    executor = Executor(client, observer=audit, strict=strict)
    try:
        result = executor.apply(the_plan)
    except PlannerError as exc:
        audit.fail(exc)
        raise
    audit.close(result)
    click.echo(report.render_apply(result, color), nl=False)
    click.echo(f"Audit record: {audit.path} (run {audit.run_id}); commit it.", err=True)
    if result.exit_status != ExitStatus.SUCCESS:
        raise click.exceptions.Exit(int(result.exit_status))


# -- config -------------------------------------------------------------------------------
@cli.command("config")
@pass_env
def config_command(env: Env) -> None:
    """Show the effective settings and where each one came from."""
    settings = env.settings
    click.echo(f"config file: {settings.config_path or '(none: planner.toml not found)'}")
    for setting in settings.settings():
        value = json.dumps(setting.value) if not isinstance(setting.value, str) else setting.value
        click.echo(f"{setting.name} = {value}    # {setting.source}")
    click.echo(f"token = (hidden)    # {settings.token_source()}")


def _register_commands() -> None:
    """Commands kept in their own modules: the audit trail's, and the sandbox."""
    from planner import cli_records  # noqa: F401  (its decorators register the commands)
    from planner.sandbox.command import sandbox_command

    cli.add_command(sandbox_command, "sandbox")


_register_commands()


def main() -> None:
    cli(prog_name="planner")
