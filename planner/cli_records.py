"""Commands around the audit trail and records under management: history, revert, import.

They register themselves on the `planner` group defined in planner.cli.
"""
from __future__ import annotations

from pathlib import Path

import click

from planner import planfile
from planner.cli import (AUDIT_DIR, FORMAT, NO_COLOR, Env, remember, api_options, cli,
                         pass_env, render)


@cli.command()
@click.argument("contact", required=False, type=int)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only changes on or after DATE.")
@AUDIT_DIR
@pass_env
def history(env: Env, contact: int | None, since, audit_dir) -> None:
    """List what apply changed, from the audit records: when, run, who, fields.

    CONTACT limits the list to one contact id. Reads only the audit directory
    (default audit/); no token, no request.
    """
    from planner.audit import history as read_history
    from planner.render.values import describe

    remember(env, audit_dir=audit_dir)
    lines = read_history(env.settings["audit_dir"], contact, since.date() if since else None)
    if not lines:
        click.echo("No recorded changes" + (f" for contact {contact}." if contact else "."))
        return
    for h in lines:
        symbol, text = describe(h.change, env.settings["sensitive_fields"])
        resource = h.path.removeprefix("/api/")
        click.echo(f"{h.when[:19]}Z  run {h.run_id}  {h.who}  contact {h.contact_id}  "
                   f"{resource}  {symbol} {text}")


@cli.command()
@click.argument("run_id")
@click.option("-o", "--out", type=click.Path(dir_okay=False),
              help="Save the revert plan, to review and then `planner apply` it.")
@FORMAT
@NO_COLOR
@AUDIT_DIR
@pass_env
def revert(env: Env, run_id: str, out, fmt, no_color, audit_dir) -> None:
    """Build a plan that restores the before values of one apply run.

    The plan is guarded by the values that run wrote: applying it is refused
    (exit 3) if any of those fields changed again since. Review it, then
    `planner apply PLANFILE`. Reads only the audit directory; no request.
    """
    from planner.audit import find_run
    from planner.revert import revert_plan

    remember(env, audit_dir=audit_dir)
    the_plan = revert_plan(find_run(env.settings["audit_dir"], run_id))
    if out:
        planfile.write(out, the_plan)
    click.echo(render(the_plan, fmt, env.color(no_color), env), nl=False)
    if out:
        click.echo(f"Saved the revert plan to {out}; apply it with: planner apply {out}", err=True)


# -- import -------------------------------------------------------------------------------
@cli.command("import")
@click.argument("contact_id", required=False, type=int)
@click.option("--email", help="Find the contact by an email address.")
@click.option("--reference", metavar="SOURCE:ID", help="Find the contact by an external reference.")
@click.option("--fields", metavar="a,b,...",
              help="Fields to manage (default: name fields, customFields, contactReferences, "
                   "address, contactIndividuals).")
@click.option("-o", "--out", type=click.Path(dir_okay=False),
              help="Write the file here (default: standard output).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@api_options
@pass_env
def import_command(env: Env, contact_id, email, reference, fields, out, force, api_url,
                   token_file) -> None:
    """Write a desired-state file for a live contact, to bring it under management.

    Give exactly one of CONTACT_ID, --email or --reference SOURCE:ID. A plan right
    after an import shows no changes. Costs one request.
    """
    from planner.errors import ConfigError
    from planner.importer import DEFAULT_FIELDS, check_fields, desired_document, to_yaml

    remember(env, api_url=api_url, token_file=token_file)
    given = [x for x in (contact_id, email, reference) if x is not None]
    if len(given) != 1:
        raise ConfigError("give exactly one of CONTACT_ID, --email or --reference SOURCE:ID")
    chosen = check_fields(fields.split(",")) if fields else DEFAULT_FIELDS
    if out and Path(out).exists() and not force:
        raise ConfigError(f"{out} exists; pass --force to overwrite it")
    client = env.client()
    if contact_id is not None:
        raw, source = client.get_contact(contact_id), f"contact {contact_id}"
    elif email is not None:
        raw, source = client.find_contact(email=email), f"email {email}"
    else:
        ref_source, sep, ref_id = reference.partition(":")
        if not sep or not ref_source or not ref_id:
            raise ConfigError("--reference takes SOURCE:ID, e.g. Portal:p-77")
        raw, source = client.find_contact(reference_source=ref_source, reference_id=ref_id), \
            f"reference {reference}"
    if raw is None:
        raise ConfigError(f"no contact found with {source}")
    text = to_yaml(desired_document(raw, chosen), source)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out}; check it with: planner plan {out}", err=True)
    else:
        click.echo(text, nl=False)
