"""``flask --app wsgi measures load FILE [--dry-run]``: load a charity's licensed measure;
``measures load --builtin`` loads the ones that ship with readerapp (``make run`` does)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..extensions import db
from .definitions import MeasureFileError
from .operations import MeasureLoadError, load_builtin_measures, load_measure_file


@click.group("measures")
def measures() -> None:
    """Outcome measures: questionnaires and their scoring."""


@measures.command("load")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--builtin", is_flag=True, help="Load the measures that ship with readerapp.")
@click.option("--dry-run", is_flag=True, help="Check and report, and write nothing.")
@with_appcontext
def load(path: Path | None, builtin: bool, dry_run: bool) -> None:
    """Check a measure file and load it as a new measure or a new version (idempotent)."""
    if (path is None) == (not builtin):
        raise click.UsageError("Give either a measure file or --builtin.")
    try:
        loaded = load_builtin_measures() if path is None else [load_measure_file(path)]
    except MeasureFileError as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise SystemExit(1) from None
    except MeasureLoadError as exc:
        db.session.rollback()
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    for item in loaded:
        click.echo(item.line())
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was written.")
    else:
        db.session.commit()
