"""Attendance exports, partnership reports and the benchmark data generator."""

from __future__ import annotations

from flask import Flask

EXPORT_ROLES = ("admin", "manager", "partner_viewer")


def init_app(app: Flask) -> None:
    from ..web import register_nav
    from .cli import bench_cli, export_cli

    app.cli.add_command(export_cli)
    app.cli.add_command(bench_cli)
    from . import views

    app.register_blueprint(views.bp)
    register_nav(app, "Exports", "exports.index", EXPORT_ROLES)
    register_nav(app, "Reports", "exports.report", EXPORT_ROLES)
