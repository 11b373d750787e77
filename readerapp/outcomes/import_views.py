"""Importing a group's paper questionnaires from a CSV file, and the file's template. For those
who record the group's answers (readerapp.access.may_record_answers); views load, check access,
call the import and commit once."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField
from wtforms.validators import InputRequired

from ..access import MAY_LEAD, may_record_answers, require, roles_required
from ..audit import record
from ..extensions import db
from ..groups.models import ReadingGroup
from ..web.forms import uploaded_bytes
from ..web.saving import save_form
from .answers import MODE_LABELS
from .imports import (
    MAX_BYTES,
    MAX_ROWS,
    MODE_WORDS,
    ImportRejected,
    RowError,
    import_answers,
    template_header,
)
from .models import Measure
from .queries import usable_measures

bp = Blueprint("answer_imports", __name__, template_folder="templates")


class AnswersImportForm(FlaskForm):
    measure = SelectField("Measure", validators=[InputRequired("Choose a measure.")])
    file = FileField("CSV file", render_kw={"accept": ".csv,text/csv"})


def _group(group_id: int) -> ReadingGroup:
    group = db.session.get(ReadingGroup, group_id)
    if group is None:
        abort(404)
    require(may_record_answers(current_user, group))
    return group


def _form() -> AnswersImportForm:
    form = AnswersImportForm()
    form.measure.choices = [(m.key, m.name) for m, _ in usable_measures("participant")]
    if request.method == "GET" and request.args.get("measure"):
        form.measure.data = request.args["measure"]
    return form


def _render(
    group: ReadingGroup, form: AnswersImportForm, errors: list[RowError], status: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "outcomes/import_answers.html",
            group=group,
            form=form,
            errors=[str(e) for e in errors],
            mode_labels=MODE_LABELS,
            mode_words=[
                w for w in MODE_WORDS if w not in {v.lower() for v in MODE_LABELS.values()}
            ],
            max_rows=MAX_ROWS,
            max_kb=MAX_BYTES // 1000,
        ),
        status,
    )


@bp.route("/groups/<int:group_id>/answers/import", methods=["GET", "POST"])
@roles_required(MAY_LEAD)
def import_csv(group_id: int) -> ResponseReturnValue:
    group = _group(group_id)
    form = _form()
    if request.method == "GET":
        return _render(group, form, [])
    if not form.validate():
        return _render(group, form, [], 400)
    data = uploaded_bytes(form.file, MAX_BYTES)
    if data is None:
        return _render(group, form, [], 400)
    measure = db.session.scalar(sa.select(Measure).filter_by(key=form.measure.data))
    assert measure is not None  # a choice offered, as validate() checked

    def run() -> int:
        saved = import_answers(group, measure, data, entered_by_id=current_user.id)
        record("import_answers", "answer_set", None, {"rows": saved, "group_id": group.id})
        return saved

    saved = save_form(form, run)
    if not saved:
        rows = saved.error.errors if isinstance(saved.error, ImportRejected) else []
        return _render(group, form, rows, saved.status)
    count = saved.value
    flash(f"Imported {count} answer set{'s' if count != 1 else ''}.", "success")
    return redirect(url_for(".import_csv", group_id=group.id, measure=form.measure.data))


@bp.get("/groups/<int:group_id>/answers/import/template.csv")
@roles_required(MAY_LEAD)
def import_template(group_id: int) -> ResponseReturnValue:
    group = _group(group_id)
    key = request.args.get("measure", "")
    found = next((pair for pair in usable_measures("participant") if pair[0].key == key), None)
    if found is None:
        abort(404)
    measure, version = found
    buffer = io.StringIO()
    # A BOM so Excel reads the file as UTF-8.
    buffer.write("\ufeff")
    csv.writer(buffer, lineterminator="\r\n").writerow(template_header(version))
    return Response(
        buffer.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="answers-{measure.key}-group-{group.id}.csv"'
            ),
            "Cache-Control": "no-store",
        },
    )
