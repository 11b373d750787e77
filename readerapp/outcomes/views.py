"""The measures loaded, and each version's questions, answers and scoring, word for word, with
its acknowledgement (for those who ask the questions: readerapp.access decides)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from ..access import MEASURE_READERS, roles_required
from ..extensions import db
from .definitions import SCORING_LABELS, USE_LABELS, MeasureDefinition
from .models import Measure

bp = Blueprint("outcomes", __name__, template_folder="templates")


@bp.get("/measures/")
@roles_required(MEASURE_READERS)
def index() -> ResponseReturnValue:
    measures = db.session.scalars(sa.select(Measure).order_by(Measure.name)).all()
    return render_template("outcomes/index.html", measures=measures)


@bp.get("/measures/<key>")
@roles_required(MEASURE_READERS)
def measure(key: str) -> ResponseReturnValue:
    found = db.session.scalar(sa.select(Measure).filter_by(key=key))
    if found is None or not found.versions:
        abort(404)
    chosen = found.versions[-1]
    asked = request.args.get("version")
    if asked is not None:
        chosen = next((v for v in found.versions if v.version == asked), None)
        if chosen is None:
            abort(404)
    return render_template(
        "outcomes/measure.html",
        measure=found,
        chosen=chosen,
        latest=found.versions[-1],
        definition=MeasureDefinition.from_json(chosen.definition),
        scoring_labels=SCORING_LABELS,
        use_labels=USE_LABELS,
    )
