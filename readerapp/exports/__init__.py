"""Attendance exports, partnership reports and the benchmark data generator."""

from __future__ import annotations

from flask import Flask


def _partnership_summary(user: object) -> str | None:
    """A partner lands on its partnership's figures (this quarter's report)."""
    from flask import url_for

    from ..access import own_organisation_id

    return None if own_organisation_id(user) is None else url_for("exports.report")


def init_app(app: Flask) -> None:
    from ..access import EXPORTERS
    from ..web import register_landing, register_nav
    from .cli import bench_cli, export_cli, outcomes_cli

    app.cli.add_command(export_cli)
    app.cli.add_command(outcomes_cli)
    app.cli.add_command(bench_cli)
    from . import outcomes_views, views, writing_views  # noqa: F401 (writing_views adds its pages to views.bp)

    app.register_blueprint(views.bp)
    app.register_blueprint(outcomes_views.bp)
    register_nav(app, "Exports", "exports.index", EXPORTERS)
    register_nav(app, "Reports", "exports.report", EXPORTERS)
    register_nav(app, "Outcomes", "outcomes_report.page", EXPORTERS)
    register_landing(app, _partnership_summary, rank=20)
