"""Command-line interface (placeholder until the commands land)."""
from __future__ import annotations

import click

from planner import __version__


@click.group()
@click.version_option(__version__, prog_name="planner")
def main() -> None:
    """planner: declarative change plans for Virtuous CRM+ Contacts."""
