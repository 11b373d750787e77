"""Admins manage user accounts: list, create, edit, deactivate and reactivate."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from ..access import admins_only
from ..db import contains_text
from ..extensions import db
from ..organisations.models import Organisation
from ..web.forms import page_arg, text_arg
from .admin_forms import ROLE_LABELS, CreateUserForm, EditUserForm
from .models import ROLES, User
from .operations import UserError, create_user, deactivate_user, reactivate_user, update_user

bp = Blueprint("users_admin", __name__, template_folder="templates")
PAGE_SIZE = 50
FORM_FIELDS = {"organisation": "organisation_id", "password": "password"}


def _load(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _organisation_choices(form: CreateUserForm | EditUserForm) -> None:
    rows = db.session.execute(
        sa.select(Organisation.id, Organisation.name).order_by(Organisation.name)
    ).all()
    form.organisation_id.choices = [SelectChoice("", "None (staff and reader leaders)")] + [
        SelectChoice(str(oid), name) for oid, name in rows
    ]


def _fail(form: CreateUserForm | EditUserForm, exc: UserError) -> None:
    db.session.rollback()
    name = FORM_FIELDS.get(exc.field or "", exc.field or "")
    if name == "password" and isinstance(form, EditUserForm):
        name = "new_password"
    field = getattr(form, name, None) or form.display_name
    field.errors = [*field.errors, str(exc)]


def _status(form: object) -> int:
    return 400 if getattr(form, "errors", None) else 200


@bp.app_context_processor
def _role_labels() -> dict[str, object]:
    return {"role_labels": ROLE_LABELS}


@bp.get("/admin/users")
@admins_only
def index() -> ResponseReturnValue:
    role = request.args.get("role", "")
    state = request.args.get("state", "")
    text = text_arg(request.args.get("q"))
    page = page_arg(request.args.get("page"))
    query = sa.select(User)
    if role in ROLES:
        query = query.where(User.role == role)
    if state in {"active", "inactive"}:
        query = query.where(User.active.is_(state == "active"))
    if text:
        query = query.where(contains_text(text, User.display_name, User.email))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    users = db.session.scalars(
        query.options(selectinload(User.organisation))
        .order_by(sa.func.lower(User.display_name), User.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "users/admin/index.html",
        users=users,
        total=total,
        page=page,
        pages=pages,
        roles=ROLES,
        chosen={"role": role, "state": state, "q": text},
    )


@bp.route("/admin/users/new", methods=["GET", "POST"])
@admins_only
def create() -> ResponseReturnValue:
    form = CreateUserForm()
    _organisation_choices(form)
    if form.validate_on_submit():
        try:
            user = create_user(
                email=form.email.data,
                role=form.role.data,
                password=form.password.data,
                display_name=form.display_name.data,
                organisation_id=form.organisation_id.data,
            )
        except UserError as exc:
            _fail(form, exc)
        else:
            db.session.commit()
            flash(f"Account created for {user.display_name}.", "success")
            return redirect(url_for("users_admin.index"))
    return render_template("users/admin/form.html", form=form, user=None), _status(form)


@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
@admins_only
def edit(user_id: int) -> ResponseReturnValue:
    user = _load(user_id)
    form = EditUserForm(obj=user if request.method == "GET" else None)
    _organisation_choices(form)
    if form.validate_on_submit():
        try:
            update_user(
                user,
                display_name=form.display_name.data,
                role=form.role.data,
                organisation_id=form.organisation_id.data,
                new_password=form.new_password.data or None,
                acting=current_user,
            )
        except UserError as exc:
            _fail(form, exc)
            user = _load(user_id)
        else:
            db.session.commit()
            flash(f"{user.display_name}'s account saved.", "success")
            return redirect(url_for("users_admin.index"))
    return render_template("users/admin/form.html", form=form, user=user), _status(form)


@bp.post("/admin/users/<int:user_id>/deactivate")
@admins_only
def deactivate(user_id: int) -> ResponseReturnValue:
    user = _load(user_id)
    try:
        deactivate_user(user, acting=current_user)
    except UserError as exc:
        db.session.rollback()
        flash(f"Not deactivated: {exc}.", "error")
        return redirect(url_for("users_admin.edit", user_id=user_id)), 303
    db.session.commit()
    flash(f"{user.display_name} can no longer sign in and has been signed out.", "success")
    return redirect(url_for("users_admin.edit", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/reactivate")
@admins_only
def reactivate(user_id: int) -> ResponseReturnValue:
    user = _load(user_id)
    reactivate_user(user)
    db.session.commit()
    flash(f"{user.display_name} can sign in again.", "success")
    return redirect(url_for("users_admin.edit", user_id=user.id))
