"""The scheduler process (APScheduler 3.11): reminders, "aired" marks, nudges and digests.

Run it with ``flask --app wsgi scheduler run`` — its own process, never inside a web worker.
"""

from __future__ import annotations

import logging
import os
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


@click.group("scheduler")
def scheduler_cli() -> None:
    """The background scheduler."""


@scheduler_cli.command("run")
@with_appcontext
def run_command() -> None:
    """Run the scheduler (one active per database; others wait as hot standbys)."""
    from .runner import run

    # Our lines go to stderr through the app's logger; APScheduler's own only when they matter.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    status = run(app)
    # run() returns only after the executor has finished every running job, the lock is
    # released and the heartbeat cleared. Exit now rather than wait at interpreter shutdown on
    # threads that libraries leave behind, which kept a stopped scheduler alive after SIGTERM.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


@scheduler_cli.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Send what is due now, once (reminders, aired marks, outbox), and exit."""
    from .jobs import send_due

    click.echo(str(send_due()))


def init_app(app: Flask) -> None:
    app.cli.add_command(scheduler_cli)
