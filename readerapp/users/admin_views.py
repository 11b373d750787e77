"""Admins manage user accounts: list, create, edit, deactivate and reactivate."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

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
from ..web.saving import Saved, save_form
from .admin_forms import ROLE_LABELS, CreateUserForm, EditUserForm
from .models import ROLES, User
from .operations import create_user, deactivate_user, reactivate_user, update_user

bp = Blueprint("users_admin", __name__, template_folder="templates")
PAGE_SIZE = 50
T = TypeVar("T")

FORM_FIELDS = {"organisation": "organisation_id", "password": "password"}
# The edit form names the password it sets "new_password".
EDIT_FORM_FIELDS = FORM_FIELDS | {"password": "new_password"}


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


def _save(form: CreateUserForm | EditUserForm, operation: Callable[[], T]) -> Saved[T]:
    """Save an account form: a refusal lands on its field, else on the name."""
    names = EDIT_FORM_FIELDS if isinstance(form, EditUserForm) else FORM_FIELDS
    return save_form(form, operation, field="display_name", field_names=names)


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
        saved = _save(
            form,
            lambda: create_user(
                email=form.email.data,
                role=form.role.data,
                password=form.password.data,
                display_name=form.display_name.data,
                organisation_id=form.organisation_id.data,
            ),
        )
        if saved:
            flash(f"Account created for {saved.value.display_name}.", "success")
            return redirect(url_for("users_admin.index"))
    return render_template("users/admin/form.html", form=form, user=None), _status(form)


@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
@admins_only
def edit(user_id: int) -> ResponseReturnValue:
    user = _load(user_id)
    form = EditUserForm(obj=user if request.method == "GET" else None)
    _organisation_choices(form)
    if form.validate_on_submit():
        saved = _save(
            form,
            lambda: update_user(
                user,
                display_name=form.display_name.data,
                role=form.role.data,
                organisation_id=form.organisation_id.data,
                new_password=form.new_password.data or None,
                acting=current_user,
            ),
        )
        if saved:
            flash(f"{user.display_name}'s account saved.", "success")
            return redirect(url_for("users_admin.index"))
        user = _load(user_id)
    return render_template("users/admin/form.html", form=form, user=user), _status(form)


@bp.post("/admin/users/<int:user_id>/deactivate")
@admins_only
def deactivate(user_id: int) -> ResponseReturnValue:
    user = _load(user_id)
    saved = save_form(None, lambda: deactivate_user(user, acting=current_user))
    if not saved:
        flash(f"Not deactivated: {saved.message}.", "error")
        return redirect(url_for("users_admin.edit", user_id=user_id)), 303
    flash(f"{user.display_name} can no longer sign in and has been signed out.", "success")
    return redirect(url_for("users_admin.edit", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/reactivate")
@admins_only
def reactivate(user_id: int) -> ResponseReturnValue:
    user = _load(user_id)
    saved = save_form(None, lambda: reactivate_user(user))
    if not saved:
        flash(saved.message, "error")
        return redirect(url_for("users_admin.edit", user_id=user_id)), 303
    flash(f"{user.display_name} can sign in again.", "success")
    return redirect(url_for("users_admin.edit", user_id=user.id))
