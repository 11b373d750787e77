"""The catalogue of reading materials: everyone signed in finds a text; those who lead sessions
add one; managers and admins correct one (readerapp.access decides, as in the API).

The texts are shared by sessions and radio episodes, so a correction here shows wherever the
text was read. The writes go through ``save_material``, as the JSON API's do.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length

from ..access import (
    EVERYONE,
    managers_only,
    may_add_material,
    may_correct_materials,
    require,
    roles_required,
)
from ..sessions.errors import SessionError
from ..sessions.forms import MATERIAL_KIND_CHOICES
from ..sessions.limits import MATERIAL_AUTHOR, MATERIAL_TITLE
from ..sessions.models import MATERIAL_KINDS, ReadingMaterial
from ..sessions.operations import MaterialData, save_material
from ..web.forms import CleanForm, page_arg, text_arg
from ..web.saving import Saved, save_form
from .queries import MaterialRow, list_materials, material_usage

bp = Blueprint("materials", __name__, template_folder="templates")

KIND_LABELS = {choice.value: choice.label for choice in MATERIAL_KIND_CHOICES}
DUPLICATE_MESSAGE = "This title and author are already in the catalogue."


class MaterialForm(CleanForm):
    """A text in the catalogue. Blank and duplicate texts are refused by ``save_material``."""

    title = StringField(
        "Title",
        validators=[InputRequired(message="Give the title."), Length(max=MATERIAL_TITLE)],
        render_kw={"autocomplete": "off"},
    )
    author = StringField(
        "Author",
        validators=[
            InputRequired(message="Give the author (or “Anonymous”)."),
            Length(max=MATERIAL_AUTHOR),
        ],
        render_kw={"autocomplete": "off"},
    )
    kind = SelectField("Kind", choices=MATERIAL_KIND_CHOICES, default="short_story")


def _load(material_id: int) -> MaterialRow:
    row = material_usage(material_id)
    if row is None:
        abort(404)
    return row


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"material_kind_labels": KIND_LABELS}


@bp.get("/materials")
@roles_required(EVERYONE)
def index() -> ResponseReturnValue:
    q = text_arg(request.args.get("q"), MATERIAL_TITLE)
    kind = request.args.get("kind", "")
    kind = kind if kind in MATERIAL_KINDS else ""
    result = list_materials(q=q, kind=kind, page=page_arg(request.args.get("page")))
    return render_template(
        "materials/index.html",
        result=result,
        kinds=MATERIAL_KINDS,
        chosen={"q": q, "kind": kind},
        can_add=may_add_material(current_user),
        can_edit=may_correct_materials(current_user),
    )


@bp.route("/materials/new", methods=["GET", "POST"])
@roles_required(EVERYONE)
def create() -> ResponseReturnValue:
    require(may_add_material(current_user))
    form = MaterialForm()
    status = 200
    if form.validate_on_submit():
        saved = _save(form, None)
        status = saved.status
        if saved:
            material = saved.value
            flash(f"Added “{material.title}” by {material.author} to the catalogue.", "success")
            return redirect(url_for("materials.index"))
    elif request.method == "POST":
        status = 400
    return render_template("materials/form.html", form=form, usage=None), status


@bp.route("/materials/<int:material_id>/edit", methods=["GET", "POST"])
@managers_only
def edit(material_id: int) -> ResponseReturnValue:
    usage = _load(material_id)
    form = MaterialForm(obj=usage.material if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        saved = _save(form, usage.material)
        status = saved.status
        if saved:
            material = saved.value
            flash(f"Saved “{material.title}” by {material.author}.", "success")
            return redirect(url_for("materials.index"))
        usage = _load(material_id)  # as stored, after the rollback
    elif request.method == "POST":
        status = 400
    return render_template("materials/form.html", form=form, usage=usage), status


def _save(form: MaterialForm, material: ReadingMaterial | None) -> Saved[ReadingMaterial]:
    """Save through the operation: the text on success, else 409 or 400 with the error on its
    field (and nothing written)."""
    data = MaterialData(title=form.title.data, author=form.author.data, kind=form.kind.data)
    return save_form(
        form,
        lambda: save_material(material, data),
        field="title",
        # Someone saved the same title and author between the check and the write.
        duplicate=SessionError(DUPLICATE_MESSAGE, "title", conflict=True),
    )
