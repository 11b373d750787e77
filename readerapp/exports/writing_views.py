"""Pages where managers write a report's narrative and quotes (versioned) and keep report
presets: load, check who may (readerapp.access), call the operations, commit once."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..access import (
    EXPORTERS,
    may_manage_report_presets,
    may_read_narrative_history,
    may_write_report_narrative,
    require,
    roles_required,
)
from ..errors import FieldError
from ..extensions import db
from ..organisations.models import Organisation
from ..web.saving import Saved, save_form
from . import operations
from .forms import NarrativeForm, PeriodForm, PresetForm
from .models import QUOTES_MAX, ReportNarrative, ReportPreset
from .partnership_report import SECTIONS, zone_today
from .periods import PERIOD_LABELS, current_period, last_complete_period
from .views import bp

# Blank quote boxes offered below those already written.
SPARE_QUOTE_SLOTS = 3


def _status(form: object, saved: Saved[Any] | None = None) -> int:
    if saved is not None and not saved:
        return saved.status
    return 400 if getattr(form, "errors", None) else 200


def _scope_form() -> PeriodForm:
    """The report scope a narrative belongs to, from the address (a partner organisation and
    a period)."""
    form = PeriodForm(formdata=MultiDict(request.args))
    form.set_organisations(None)
    valid = form.validate()
    if not form.organisation.data:
        form.organisation.errors = [*form.organisation.errors, "Choose a partner organisation"]
        valid = False
    if not valid:
        abort(Response(render_template("exports/narrative_scope.html", form=form), 400))
    return form


def _scope() -> tuple[operations.NarrativeScope, Organisation, dict[str, str]]:
    form = _scope_form()
    organisation = db.session.get(Organisation, int(form.organisation.data))
    if organisation is None:
        abort(404)
    scope = operations.NarrativeScope(organisation.id, form.date_from.data, form.date_to.data)
    query = {
        "organisation": str(organisation.id),
        "date_from": scope.date_from.isoformat(),
        "date_to": scope.date_to.isoformat(),
    }
    return scope, organisation, query


def _filled_slots(form: NarrativeForm) -> int:
    filled = [i for i, slot in enumerate(form.quote_slots(), 1) if any(f.data for f in slot)]
    return min(QUOTES_MAX, max(filled, default=0) + SPARE_QUOTE_SLOTS)


@bp.route("/reports/partnership/narrative", methods=["GET", "POST"])
@roles_required(EXPORTERS)
def narrative_edit() -> ResponseReturnValue:
    require(may_write_report_narrative(current_user))
    scope, organisation, query = _scope()
    latest = operations.latest_narrative(scope)
    if request.method == "GET":
        form = NarrativeForm(formdata=None)
        if latest is not None:
            form.based_on.data = str(latest.version)
            form.text.data = latest.text
            for (quote, attribution, code), saved_quote in zip(
                form.quote_slots(), latest.quotes, strict=False
            ):
                quote.data, attribution.data = saved_quote.text, saved_quote.attribution or ""
                code.data = saved_quote.participant.code if saved_quote.participant else ""
    else:
        form = NarrativeForm()
    saved = None
    if form.validate_on_submit():
        saved = save_form(
            form,
            lambda: operations.save_narrative(scope, form.narrative_input(), current_user.id),
            field=None,
            # Two saves from the same version at once: the unique version number refuses one.
            duplicate=FieldError(operations.NARRATIVE_CHANGED, conflict=True),
        )
        if saved:
            flash(f"Narrative saved (version {saved.value.version}).", "success")
            return redirect(url_for("exports.report", **query))
        latest = operations.latest_narrative(scope)
    return render_template(
        "exports/narrative_form.html",
        form=form,
        organisation=organisation,
        scope=scope,
        query=query,
        latest=latest,
        withheld=operations.shown(latest).withheld if latest is not None else 0,
        slots=_filled_slots(form),
    ), _status(form, saved)


@bp.get("/reports/partnership/narrative/versions")
@roles_required(EXPORTERS)
def narrative_versions() -> ResponseReturnValue:
    require(may_read_narrative_history(current_user))
    scope, organisation, query = _scope()
    versions = db.session.scalars(operations.narrative_versions(scope)).all()
    return render_template(
        "exports/narrative_versions.html",
        organisation=organisation,
        scope=scope,
        query=query,
        versions=versions,
    )


@bp.get("/reports/partnership/narrative/versions/<int:narrative_id>")
@roles_required(EXPORTERS)
def narrative_version(narrative_id: int) -> ResponseReturnValue:
    require(may_read_narrative_history(current_user))
    narrative = db.session.get(ReportNarrative, narrative_id)
    if narrative is None:
        abort(404)
    query = {
        "organisation": str(narrative.organisation_id),
        "date_from": narrative.date_from.isoformat(),
        "date_to": narrative.date_to.isoformat(),
    }
    return render_template(
        "exports/narrative_version.html",
        narrative=narrative,
        shown=operations.shown(narrative),
        organisation=db.session.get(Organisation, narrative.organisation_id),
        query=query,
    )


# --- Presets -------------------------------------------------------------------------------


def _presets_page(form: PresetForm, status: int = 200) -> ResponseReturnValue:
    presets = db.session.scalars(sa.select(ReportPreset).order_by(ReportPreset.name)).all()
    return render_template(
        "exports/presets.html",
        form=form,
        presets=presets,
        period_labels=PERIOD_LABELS,
        section_labels=SECTIONS,
    ), status


@bp.get("/reports/presets")
@roles_required(EXPORTERS)
def presets() -> ResponseReturnValue:
    require(may_manage_report_presets(current_user))
    form = PresetForm(formdata=None)
    form.set_organisations()
    form.sections.data = list(SECTIONS)
    return _presets_page(form)


@bp.post("/reports/presets")
@roles_required(EXPORTERS)
def preset_create() -> ResponseReturnValue:
    require(may_manage_report_presets(current_user))
    form = PresetForm()
    form.set_organisations()
    saved = None
    if form.validate_on_submit():
        saved = save_form(
            form,
            lambda: operations.create_preset(form.preset_input(), current_user.id),
            field=None,
            duplicate=FieldError(operations.PRESET_NAME_TAKEN, "name", conflict=True),
        )
        if saved:
            flash(f"Preset “{saved.value.name}” saved.", "success")
            return redirect(url_for("exports.presets"))
    return _presets_page(form, _status(form, saved))


def _load_preset(preset_id: int) -> ReportPreset:
    preset = db.session.get(ReportPreset, preset_id)
    if preset is None:
        abort(404)
    return preset


@bp.post("/reports/presets/<int:preset_id>/delete")
@roles_required(EXPORTERS)
def preset_delete(preset_id: int) -> ResponseReturnValue:
    require(may_manage_report_presets(current_user))
    preset = _load_preset(preset_id)
    name = preset.name
    saved = save_form(None, lambda: operations.delete_preset(preset))
    if saved:
        flash(f"Preset “{name}” deleted.", "success")
    else:
        flash(saved.message, "error")
    return redirect(url_for("exports.presets"))


@bp.get("/reports/presets/<int:preset_id>/run")
@roles_required(EXPORTERS)
def preset_run(preset_id: int) -> ResponseReturnValue:
    """The preset's report: for a quarter, month or financial year the last one complete (the
    period a return reports on), or with ``period=current`` the one running now."""
    require(may_manage_report_presets(current_user))
    preset = _load_preset(preset_id)
    if preset.period_type == "custom":
        assert preset.date_from is not None and preset.date_to is not None
        start, end = preset.date_from, preset.date_to
    else:
        from ..timeutil import local_zone

        today = zone_today(local_zone())
        which = current_period if request.args.get("period") == "current" else last_complete_period
        start, end = which(preset.period_type, today)
    query: dict[str, Any] = {
        "date_from": start.isoformat(),
        "date_to": end.isoformat(),
        "section": sorted(preset.section_names),
    }
    if preset.organisation_id is not None:
        query["organisation"] = str(preset.organisation_id)
    return redirect(url_for("exports.report", **query))
