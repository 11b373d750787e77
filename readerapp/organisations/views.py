"""Pages for partner organisations and their venues: managers and admins change them; anyone
who may see an organisation (readerapp.access) reads its page, showing only what they may see."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..access import (
    EVERYONE,
    can_manage_organisations,
    managers_only,
    may_view_organisation,
    require,
    roles_required,
    sees_location_detail,
    visible_group_ids,
    visible_venue_ids,
)
from ..extensions import db
from ..groups.models import ReadingGroup
from ..web.saving import Saved, save_form
from .forms import KIND_LABELS, SETTING_LABELS, OrganisationForm, VenueForm
from .models import ORGANISATION_KINDS, Organisation, Partnership, Venue
from .operations import (
    OrganisationData,
    VenueData,
    save_organisation,
    save_venue,
)

bp = Blueprint("organisations", __name__, template_folder="templates")


def _load(organisation_id: int) -> Organisation:
    return db.get_or_404(Organisation, organisation_id)


def _status(form: object, saved: Saved[Any] | None = None) -> int:
    """A refused save's own status (409 for a name already taken), else 400 for a form with
    errors."""
    if saved is not None and not saved:
        return saved.status
    return 400 if getattr(form, "errors", None) else 200


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"kind_labels": KIND_LABELS, "setting_labels": SETTING_LABELS}


@bp.get("/organisations")
@managers_only
def index() -> ResponseReturnValue:
    kind = request.args.get("kind", "")
    venue_counts = (
        sa.select(Venue.organisation_id, sa.func.count().label("n"))
        .group_by(Venue.organisation_id)
        .subquery()
    )
    group_counts = (
        sa.select(
            Partnership.organisation_id,
            sa.func.count(sa.distinct(Partnership.group_id)).label("n"),
        )
        .group_by(Partnership.organisation_id)
        .subquery()
    )
    query = (
        sa.select(Organisation, venue_counts.c.n, group_counts.c.n)
        .outerjoin(venue_counts, venue_counts.c.organisation_id == Organisation.id)
        .outerjoin(group_counts, group_counts.c.organisation_id == Organisation.id)
        .order_by(sa.func.lower(Organisation.name))
    )
    if kind in ORGANISATION_KINDS:
        query = query.where(Organisation.kind == kind)
    rows = db.session.execute(query).all()
    return render_template(
        "organisations/index.html", rows=rows, kinds=ORGANISATION_KINDS, chosen_kind=kind
    )


@bp.route("/organisations/new", methods=["GET", "POST"])
@managers_only
def create() -> ResponseReturnValue:
    form = OrganisationForm()
    saved = None
    if form.validate_on_submit():
        saved = save_form(
            form, lambda: save_organisation(None, _organisation_data(form)), field="name"
        )
        if saved:
            organisation = saved.value
            flash(f"{organisation.name} added.", "success")
            return redirect(url_for("organisations.detail", organisation_id=organisation.id))
    return render_template("organisations/form.html", form=form, organisation=None), _status(
        form, saved
    )


@bp.get("/organisations/<int:organisation_id>")
@roles_required(EVERYONE)
def detail(organisation_id: int) -> ResponseReturnValue:
    organisation = _load(organisation_id)
    require(may_view_organisation(current_user, organisation))
    venues_query = sa.select(Venue).where(Venue.organisation_id == organisation.id)
    partnerships_query = (
        sa.select(Partnership)
        .join(ReadingGroup, ReadingGroup.id == Partnership.group_id)
        .where(Partnership.organisation_id == organisation.id)
        .options(selectinload(Partnership.group))
    )
    # Only the venues and groups the reader may see; staff see them all.
    venue_ids, group_ids = visible_venue_ids(current_user), visible_group_ids(current_user)
    if venue_ids is not None:
        venues_query = venues_query.where(Venue.id.in_(venue_ids))
    if group_ids is not None:
        partnerships_query = partnerships_query.where(Partnership.group_id.in_(group_ids))
    venues = db.session.scalars(venues_query.order_by(Venue.name)).all()
    partnerships = db.session.scalars(
        partnerships_query.order_by(ReadingGroup.name, Partnership.start_date)
    ).all()
    return render_template(
        "organisations/detail.html",
        organisation=organisation,
        venues=venues,
        partnerships=partnerships,
        can_edit=can_manage_organisations(current_user),
        show_unit=sees_location_detail(current_user, organisation),
    )


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@managers_only
def edit(organisation_id: int) -> ResponseReturnValue:
    organisation = _load(organisation_id)
    form = OrganisationForm(obj=organisation if request.method == "GET" else None)
    saved = None
    if form.validate_on_submit():
        saved = save_form(
            form, lambda: save_organisation(organisation, _organisation_data(form)), field="name"
        )
        if saved:
            flash("Organisation saved.", "success")
            return redirect(url_for("organisations.detail", organisation_id=organisation_id))
        organisation = _load(organisation_id)
    return render_template(
        "organisations/form.html", form=form, organisation=organisation
    ), _status(form, saved)


@bp.route("/organisations/<int:organisation_id>/venues/new", methods=["GET", "POST"])
@managers_only
def venue_new(organisation_id: int) -> ResponseReturnValue:
    organisation = _load(organisation_id)
    form = VenueForm()
    saved = None
    if form.validate_on_submit():
        saved = save_form(
            form, lambda: save_venue(None, _venue_data(form, organisation)), field="name"
        )
        if saved:
            flash("Venue added.", "success")
            return redirect(url_for("organisations.detail", organisation_id=organisation_id))
        organisation = _load(organisation_id)
    return render_template(
        "organisations/venue_form.html", form=form, organisation=organisation, venue=None
    ), _status(form, saved)


@bp.route(
    "/organisations/<int:organisation_id>/venues/<int:venue_id>/edit", methods=["GET", "POST"]
)
@managers_only
def venue_edit(organisation_id: int, venue_id: int) -> ResponseReturnValue:
    organisation = _load(organisation_id)
    venue = db.session.get(Venue, venue_id)
    if venue is None or venue.organisation_id != organisation.id:
        abort(404)
    form = VenueForm(obj=venue if request.method == "GET" else None)
    saved = None
    if form.validate_on_submit():
        saved = save_form(
            form, lambda: save_venue(venue, _venue_data(form, organisation)), field="name"
        )
        if saved:
            flash("Venue saved.", "success")
            return redirect(url_for("organisations.detail", organisation_id=organisation_id))
        organisation = _load(organisation_id)
        venue = db.session.get(Venue, venue_id)
    return render_template(
        "organisations/venue_form.html", form=form, organisation=organisation, venue=venue
    ), _status(form, saved)


def _organisation_data(form: OrganisationForm) -> OrganisationData:
    return OrganisationData(
        name=form.name.data,
        kind=form.kind.data,
        contact_name=form.contact_name.data,
        contact_email=form.contact_email.data,
        contact_phone=form.contact_phone.data,
        share_location_detail=bool(form.share_location_detail.data),
        prisons_reached=form.prisons_reached.data,
        keep_names=bool(form.keep_names.data),
    )


def _venue_data(form: VenueForm, organisation: Organisation) -> VenueData:
    return VenueData(
        organisation_id=organisation.id,
        name=form.name.data,
        setting_type=form.setting_type.data,
        address=form.address.data,
        unit=form.unit.data,
    )
