"""``flask --app wsgi export attendance …``, ``flask --app wsgi outcomes export-by-code …`` and
``flask --app wsgi bench generate …``."""

from __future__ import annotations

import sys
import time
from datetime import date

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from ..access import may_export_answers_by_code
from ..dbguard import lift_statement_bound, restore_statement_bound
from ..extensions import db
from ..organisations.models import SETTING_TYPES, Organisation
from ..users.models import User
from . import streaming
from .outcomes_report import OutcomesScope, export_answers_by_code
from .queries import COLUMN_SETS
from .streaming import record_participant_export

ANSWER_FORMATS = ("csv", "xlsx")

export_cli = AppGroup("export", help="Export attendance for spreadsheets and reports.")
outcomes_cli = AppGroup("outcomes", help="Outcome answers: the staff export by participant code.")
bench_cli = AppGroup("bench", help="Synthetic data for benchmarks.")


def _day(ctx: click.Context, param: click.Parameter, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc


@export_cli.command("attendance")
@click.option("--from", "date_from", required=True, callback=_day, help="First local date.")
@click.option("--to", "date_to", required=True, callback=_day, help="Last local date.")
@click.option("--organisation", help="Partner organisation name.")
@click.option("--setting", type=click.Choice(SETTING_TYPES), help="Setting type of the venue.")
@click.option("--group", help="Reading group name.")
@click.option("--leader", help="Reader leader's email.")
@click.option("--per-participant", is_flag=True, help="One row per participant attendance.")
@click.option("--format", "fmt", type=click.Choice(streaming.FORMATS), default="csv")
@click.option(
    "--columns",
    type=click.Choice(COLUMN_SETS),
    default="human",
    show_default=True,
    help="Headers and values in words, or the machine names and values scripts read.",
)
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--quiet", is_flag=True, help="No progress bar.")
def export_attendance(
    date_from: date,
    date_to: date,
    organisation: str | None,
    setting: str | None,
    group: str | None,
    leader: str | None,
    per_participant: bool,
    fmt: str,
    columns: str,
    output: str,
    quiet: bool,
) -> None:
    """Write attendance between two local dates (inclusive) to a file."""
    try:
        filters = streaming.resolve_names(
            date_from, date_to, organisation, setting, group, leader, per_participant, columns
        )
    except streaming.ExportError as exc:
        raise click.UsageError(str(exc)) from exc
    total = streaming.total_rows(filters)
    started = time.perf_counter()
    with open(output, "wb") as out:
        if quiet:
            streaming.write_export(filters, fmt, out)
        else:
            with click.progressbar(
                length=total, label=f"Exporting {total} rows", file=sys.stderr
            ) as bar:
                streaming.write_export(filters, fmt, out, bar.update)
    if filters.per_participant:
        record_participant_export(filters, fmt, "command line")
    db.session.commit()
    elapsed = time.perf_counter() - started
    click.echo(f"Wrote {total} rows to {output} in {elapsed:.1f} s", err=True)


@outcomes_cli.command("export-by-code")
@click.option("--from", "date_from", required=True, callback=_day, help="First local date.")
@click.option("--to", "date_to", required=True, callback=_day, help="Last local date.")
@click.option("--organisation", help="Partner organisation name (none: every partner).")
@click.option("--setting", type=click.Choice(SETTING_TYPES), help="Setting type of the venue.")
@click.option("--format", "fmt", type=click.Choice(ANSWER_FORMATS), default="csv")
@click.option(
    "--user",
    "email",
    required=True,
    help="The email of the manager or admin the export is for: the same rule as the web.",
)
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True))
def export_answers(
    date_from: date,
    date_to: date,
    organisation: str | None,
    setting: str | None,
    fmt: str,
    email: str,
    output: str,
) -> None:
    """Write the answer sets given by participant code between two local dates (inclusive),
    one row per set: health data, recorded in the audit trail."""
    user = db.session.scalar(
        sa.select(User).where(sa.func.lower(User.email) == email.strip().lower())
    )
    if user is None or not user.active or not may_export_answers_by_code(user):
        raise click.UsageError(
            f"{email} is not an active manager or admin: only they may export answers by code."
        )
    if date_to < date_from:
        raise click.BadParameter("must be on or after --from", param_hint="--to")
    organisation_id = None
    if organisation is not None:
        organisation_id = db.session.scalar(
            sa.select(Organisation.id).where(Organisation.name == organisation)
        )
        if organisation_id is None:
            raise click.BadParameter(
                f"no organisation is called {organisation!r}", param_hint="--organisation"
            )
    scope = OutcomesScope(date_from, date_to, organisation_id, setting)
    exported = export_answers_by_code(scope, fmt, "cli", requested_by_id=user.id)
    with open(output, "wb") as out:
        out.write(exported.body)
    db.session.commit()
    click.echo(f"Wrote {exported.answer_sets} answer sets to {output}", err=True)


@bench_cli.command("generate")
@click.option(
    "--scale",
    type=click.IntRange(1, 50),
    default=1,
    show_default=True,
    help="Years of history for 600 weekly groups.",
)
@click.option("--seed", type=int, default=20261129, show_default=True)
def bench_generate(scale: int, seed: int) -> None:
    """Fill an empty database with synthetic groups, sessions and attendance."""
    from .synthetic import generate

    started = time.perf_counter()
    # A bulk load (a command, never a request) takes as long as it takes: its one transaction,
    # the commit included, runs without the statement bound.
    driver_connection = db.session.connection().connection.driver_connection
    lift_statement_bound(db.engine, driver_connection)
    try:
        result = generate(scale, seed=seed)
        db.session.commit()
    except ValueError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    finally:
        restore_statement_bound(db.engine, driver_connection)
    click.echo(
        f"Generated {result.groups} groups, {result.sessions} sessions, "
        f"{result.attendances} attendance records, {result.participant_attendances} "
        f"participant attendances, {result.broadcasts} broadcasts "
        f"in {time.perf_counter() - started:.1f} s"
    )
