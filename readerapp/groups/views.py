"""Group pages: the list, a group's detail, and managers' forms for groups and partnerships."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from wtforms import Field
from wtforms.fields.choices import SelectChoice

from ..access import (
    MAY_LEAD,
    can_edit_group_sessions,
    can_manage_groups,
    can_view_group,
    disclosure_for,
    managers_only,
    require,
    sees_location_detail,
    sees_participants,
)
from ..errors import FieldError
from ..extensions import db
from ..organisations.models import SETTING_TYPES, Organisation, Partnership, Venue
from ..timeutil import to_local, utcnow
from ..users.models import User
from ..web.forms import page_arg, text_arg
from ..web.saving import save_form
from .forms import GroupForm, PartnershipForm
from .models import GROUP_STATUSES, ReadingGroup
from .operations import (
    GroupData,
    PartnershipData,
    add_partnership,
    create_group,
    remove_partnership,
    update_group,
    update_partnership,
)
from .patterns import (
    PatternChoice,
    build_rule,
    choice_from_rule,
    format_excluded_dates,
    parse_excluded_dates,
)
from .queries import (
    headcount_chart,
    list_groups,
    monthly_headcounts,
    pattern_words,
    reading_history,
    recent_sessions,
    shown,
    upcoming_sessions,
)
from .recurrence import PatternError

bp = Blueprint("groups", __name__, template_folder="templates")


def _load_group(group_id: int) -> ReadingGroup:
    return db.get_or_404(ReadingGroup, group_id)


def _status(form: object) -> int:
    return 400 if getattr(form, "errors", None) else 200


def _add_error(field: Field, message: str) -> None:
    field.errors = [*field.errors, message]


# A global rather than a context processor: imported macros (session cards) see globals only.
@bp.app_template_global()
def place_of(group: ReadingGroup) -> str:
    """Where the group meets, for any page: its room and the venue's unit where the reader may
    see them (a partner only where the organisation shares them), else the venue's name."""
    return group.place(sees_location_detail(current_user, group.venue.organisation))


# --- Reading -------------------------------------------------------------------------------------


@bp.get("/groups")
@login_required
def index() -> ResponseReturnValue:
    status = request.args.get("status", "")
    setting = request.args.get("setting", "")
    name = text_arg(request.args.get("q"))
    result = list_groups(
        current_user,
        utcnow(),
        status=status if status in GROUP_STATUSES else None,
        setting=setting if setting in SETTING_TYPES else None,
        name=name or None,
        page=page_arg(request.args.get("page")),
    )
    return render_template(
        "groups/index.html",
        result=result,
        statuses=GROUP_STATUSES,
        settings=SETTING_TYPES,
        chosen={"status": status, "setting": setting, "q": name},
        can_manage=can_manage_groups(current_user),
    )


@bp.get("/groups/<int:group_id>")
@login_required
def detail(group_id: int) -> ResponseReturnValue:
    group = _load_group(group_id)
    require(can_view_group(current_user, group))
    now = utcnow()
    recent, counts, total_attendances = shown(
        recent_sessions(group, now), monthly_headcounts(group, now), disclosure_for(current_user)
    )
    staff_or_leader = sees_participants(current_user)
    return render_template(
        "groups/detail.html",
        group=group,
        pattern=pattern_words(group),
        upcoming=upcoming_sessions(group, now),
        recent=recent,
        counts=counts,
        total_attendances=total_attendances,
        chart=headcount_chart(counts),
        reading=reading_history(group),
        partnerships=sorted(group.partnerships, key=lambda p: (p.start_date, p.organisation.name)),
        today=to_local(now, group.tz_name).date(),
        # Partners see neither the address nor notes about who the group is for, and the ward or
        # wing only where the organisation shares it.
        show_detail=staff_or_leader,
        show_location=sees_location_detail(current_user, group.venue.organisation),
        link_sessions=staff_or_leader,
        can_manage=can_manage_groups(current_user),
        can_add_session=can_edit_group_sessions(current_user, group),
    )


# --- Creating and editing groups -----------------------------------------------------------------


def _fill_choices(form: GroupForm) -> None:
    venues = db.session.execute(
        sa.select(Venue.id, Venue.name, Venue.unit, Organisation.name)
        .join(Organisation, Organisation.id == Venue.organisation_id)
        .order_by(Organisation.name, Venue.name)
    ).all()
    # The unit tells apart venues of one name and shows what a group's room adds to it.
    form.venue_id.choices = [SelectChoice("", "Choose a venue")] + [
        SelectChoice(str(vid), f"{vname}{f', {unit}' if unit else ''} — {oname}")
        for vid, vname, unit, oname in venues
    ]
    leaders = db.session.execute(
        sa.select(User.id, User.display_name, User.email)
        .where(User.active.is_(True), User.role.in_(MAY_LEAD))
        .order_by(User.display_name, User.id)
    ).all()
    people = [SelectChoice(str(uid), f"{name} ({email})") for uid, name, email in leaders]
    form.lead_leader_id.choices = [SelectChoice("", "No lead leader yet"), *people]
    form.coleader_ids.choices = [SelectChoice(int(p.value), p.label) for p in people]


def _prefill(form: GroupForm, group: ReadingGroup) -> None:
    form.name.data = group.name
    form.venue_id.data = group.venue_id
    form.room.data = group.room
    form.lead_leader_id.data = group.lead_leader_id
    form.coleader_ids.data = [u.id for u in group.coleaders]
    form.status.data = group.status
    form.capacity.data = group.capacity
    form.audience_notes.data = group.audience_notes
    form.expected_max.data = group.expected_max
    form.keeps_register.data = group.keeps_register
    choice = choice_from_rule(group.rrule)
    form.frequency.data = choice.frequency
    form.interval.data = choice.interval
    form.weekdays.data = choice.weekdays
    form.month_ordinal.data = choice.month_ordinal
    form.month_day.data = choice.month_day or ""
    form.custom_rule.data = choice.custom_rule
    form.start_time.data = group.start_time
    form.duration_minutes.data = group.duration_minutes
    form.tz_name.data = group.tz_name
    form.first_date.data = group.first_date
    form.last_date.data = group.last_date
    form.count.data = choice.count
    form.end.data = "count" if choice.count else "last_date" if group.last_date else "none"
    form.excluded_dates.data = format_excluded_dates(
        {row.day: row.reason for row in group.excluded_dates}
    )


def _group_data(form: GroupForm) -> GroupData | None:
    """The form's data for the operations, or None after putting pattern errors on the form."""
    choice = PatternChoice(
        frequency=form.frequency.data,
        interval=form.interval.data,
        weekdays=list(form.weekdays.data or []),
        month_ordinal=form.month_ordinal.data,
        month_day=form.month_day.data or None,
        custom_rule=form.custom_rule.data,
        count=form.count.data if form.end.data == "count" else None,
    )
    rule = excluded = None
    try:
        rule = build_rule(choice)
    except PatternError as exc:
        _add_error(_pattern_field(form), str(exc))
    try:
        excluded = parse_excluded_dates(form.excluded_dates.data or "")
    except PatternError as exc:
        _add_error(form.excluded_dates, str(exc))
    if rule is None or excluded is None:
        return None
    return GroupData(
        name=form.name.data,
        venue_id=form.venue_id.data,
        room=form.room.data,
        rrule=rule,
        start_time=form.start_time.data,
        duration_minutes=form.duration_minutes.data,
        first_date=form.first_date.data,
        tz_name=form.tz_name.data.strip(),
        last_date=form.last_date.data if form.end.data == "last_date" else None,
        excluded=excluded,
        lead_leader_id=form.lead_leader_id.data,
        coleader_ids=list(form.coleader_ids.data or []),
        status=form.status.data,
        capacity=form.capacity.data,
        audience_notes=form.audience_notes.data,
        expected_max=form.expected_max.data,
        keeps_register=bool(form.keeps_register.data),
    )


def _pattern_field(form: GroupForm) -> Field:
    if form.frequency.data == "custom":
        return form.custom_rule
    if form.frequency.data == "monthly":
        return form.month_ordinal
    return form.weekdays


def _error_field(form: GroupForm, exc: FieldError) -> Field:
    if exc.field == "rrule":
        return _pattern_field(form)
    return getattr(form, exc.field or "", None) or form.name


def _attach(form: GroupForm) -> Callable[[FieldError], None]:
    return lambda exc: _add_error(_error_field(form, exc), exc.message)


def _render_group_form(form: GroupForm, group: ReadingGroup | None) -> ResponseReturnValue:
    return render_template("groups/form.html", form=form, group=group), _status(form)


@bp.route("/groups/new", methods=["GET", "POST"])
@managers_only
def create() -> ResponseReturnValue:
    form = GroupForm()
    _fill_choices(form)
    if request.method == "GET":
        form.first_date.data = to_local(utcnow()).date()
    if form.validate_on_submit():
        data = _group_data(form)
        if data is not None:
            saved = save_form(form, lambda: create_group(data), attach=_attach(form))
            if saved:
                group = saved.value
                flash(f"Group “{group.name}” created and its sessions scheduled.", "success")
                return redirect(url_for("groups.detail", group_id=group.id))
    return _render_group_form(form, None)


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
@managers_only
def edit(group_id: int) -> ResponseReturnValue:
    group = _load_group(group_id)
    form = GroupForm()
    _fill_choices(form)
    if request.method == "GET":
        _prefill(form, group)
    if form.validate_on_submit():
        data = _group_data(form)
        if data is not None:
            saved = save_form(form, lambda: update_group(group, data), attach=_attach(form))
            if saved:
                result = saved.value
                flash(
                    f"Group saved: {result.created} sessions added, {result.removed} removed, "
                    f"{result.updated} changed.",
                    "success",
                )
                return redirect(url_for("groups.detail", group_id=group_id))
            group = _load_group(group_id)
    return _render_group_form(form, group)


# --- Partnerships --------------------------------------------------------------------------------


def _organisation_choices(form: PartnershipForm) -> None:
    organisations = db.session.execute(
        sa.select(Organisation.id, Organisation.name).order_by(Organisation.name)
    ).all()
    form.organisation_id.choices = [SelectChoice("", "Choose an organisation")] + [
        SelectChoice(str(oid), name) for oid, name in organisations
    ]


def _partnership_data(form: PartnershipForm) -> PartnershipData:
    return PartnershipData(
        organisation_id=form.organisation_id.data,
        role=form.role.data,
        start_date=form.start_date.data,
        end_date=form.end_date.data,
    )


def _load_partnership(group: ReadingGroup, partnership_id: int) -> Partnership:
    partnership = db.session.get(Partnership, partnership_id)
    if partnership is None or partnership.group_id != group.id:
        abort(404)
    return partnership


@bp.route("/groups/<int:group_id>/partnerships/new", methods=["GET", "POST"])
@managers_only
def partnership_new(group_id: int) -> ResponseReturnValue:
    group = _load_group(group_id)
    form = PartnershipForm()
    _organisation_choices(form)
    if request.method == "GET":
        form.start_date.data = to_local(utcnow()).date()
    if form.validate_on_submit():
        saved = save_form(
            form, lambda: add_partnership(group, _partnership_data(form)), field="organisation_id"
        )
        if saved:
            flash("Partner added.", "success")
            return redirect(url_for("groups.detail", group_id=group.id, _anchor="partners"))
    return render_template(
        "groups/partnership_form.html", form=form, group=group, partnership=None
    ), _status(form)


@bp.route("/groups/<int:group_id>/partnerships/<int:partnership_id>/edit", methods=["GET", "POST"])
@managers_only
def partnership_edit(group_id: int, partnership_id: int) -> ResponseReturnValue:
    group = _load_group(group_id)
    partnership = _load_partnership(group, partnership_id)
    form = PartnershipForm(obj=partnership if request.method == "GET" else None)
    _organisation_choices(form)
    if form.validate_on_submit():
        saved = save_form(
            form,
            lambda: update_partnership(partnership, _partnership_data(form)),
            field="organisation_id",
        )
        if saved:
            flash("Partnership saved.", "success")
            return redirect(url_for("groups.detail", group_id=group_id, _anchor="partners"))
        group = _load_group(group_id)
        partnership = _load_partnership(group, partnership_id)
    return render_template(
        "groups/partnership_form.html", form=form, group=group, partnership=partnership
    ), _status(form)


@bp.post("/groups/<int:group_id>/partnerships/<int:partnership_id>/remove")
@managers_only
def partnership_remove(group_id: int, partnership_id: int) -> ResponseReturnValue:
    group = _load_group(group_id)
    partnership = _load_partnership(group, partnership_id)
    name = partnership.organisation.name
    saved = save_form(None, lambda: remove_partnership(partnership))
    if saved:
        flash(f"{name} is no longer a partner of this group.", "success")
    else:
        flash(saved.message, "error")
    return redirect(url_for("groups.detail", group_id=group_id, _anchor="partners"))
