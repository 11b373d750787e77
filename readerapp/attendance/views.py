"""Paper registers: upload a group's past attendance as CSV, and download the template."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from ..access import can_edit_group_sessions, require
from ..extensions import db
from ..groups.models import ReadingGroup
from ..web.saving import save_form
from .imports import COLUMNS, MAX_BYTES, ImportRejected, RowError, import_attendance, template_rows

bp = Blueprint("attendance", __name__, template_folder="templates")


class ImportForm(FlaskForm):
    file = FileField("CSV file", render_kw={"accept": ".csv,text/csv"})


def _group_for_import(group_id: int) -> ReadingGroup:
    group = db.session.get(ReadingGroup, group_id)
    if group is None:
        abort(404)
    require(can_edit_group_sessions(current_user, group))
    return group


def _render(
    group: ReadingGroup, form: ImportForm, errors: list[RowError], status: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "attendance/import.html", group=group, form=form, errors=errors, columns=COLUMNS
        ),
        status,
    )


@bp.route("/groups/<int:group_id>/import-attendance", methods=["GET", "POST"])
@login_required
def import_csv(group_id: int) -> ResponseReturnValue:
    group = _group_for_import(group_id)
    form = ImportForm()
    if request.method == "GET":
        return _render(group, form, [])
    if not form.validate():
        return _render(group, form, [], 400)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors = ["Choose a CSV file to upload."]
        return _render(group, form, [], 400)
    data = upload.stream.read(MAX_BYTES + 1)
    saved = save_form(form, lambda: import_attendance(group, data, actor=current_user))
    if not saved:
        rows = saved.error.errors if isinstance(saved.error, ImportRejected) else []
        return _render(group, form, rows, saved.status)
    result = saved.value
    message = f"Imported {result.logged} session{'s' if result.logged != 1 else ''}."
    if result.created:
        message += f" {result.created} of them had no scheduled session and were added."
    flash(message, "success")
    return redirect(url_for("attendance.import_csv", group_id=group.id))


@bp.get("/groups/<int:group_id>/import-attendance/template.csv")
@login_required
def import_template(group_id: int) -> ResponseReturnValue:
    group = _group_for_import(group_id)
    buffer = io.StringIO()
    # A BOM so Excel reads the file as UTF-8.
    buffer.write("\ufeff")
    csv.writer(buffer, lineterminator="\r\n").writerows(template_rows(group))
    return Response(
        buffer.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="register-group-{group.id}.csv"',
            "Cache-Control": "no-store",
        },
    )
