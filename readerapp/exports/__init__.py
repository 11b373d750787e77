"""Attendance exports, partnership reports and the benchmark data generator."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import EXPORTERS
    from ..web import register_nav
    from .cli import bench_cli, export_cli

    app.cli.add_command(export_cli)
    app.cli.add_command(bench_cli)
    from . import views

    app.register_blueprint(views.bp)
    register_nav(app, "Exports", "exports.index", EXPORTERS)
    register_nav(app, "Reports", "exports.report", EXPORTERS)
