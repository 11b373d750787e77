"""The outbox pages: admins read every message, including those waiting while no mail is sent."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from ..access import admins_only
from ..extensions import db
from ..timeutil import utcnow
from .models import OUTBOX_STATUSES, OutboxMessage
from .outbox import mail_configured

bp = Blueprint("notifications", __name__, url_prefix="/outbox", template_folder="templates")

PAGE_SIZE = 100


@bp.get("/")
@admins_only
def outbox() -> ResponseReturnValue:
    status = request.args.get("status") or None
    if status is not None and status not in OUTBOX_STATUSES:
        abort(400, description=f"status: one of {', '.join(OUTBOX_STATUSES)}")
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        abort(400, description="page: a whole number")
    query = sa.select(OutboxMessage)
    if status:
        query = query.where(OutboxMessage.status == status)
    messages = db.session.scalars(
        query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    counts = dict(
        db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return render_template(
        "notifications/outbox.html",
        messages=messages[:PAGE_SIZE],
        has_more=len(messages) > PAGE_SIZE,
        page=page,
        status=status,
        counts=counts,
        statuses=OUTBOX_STATUSES,
        mail_configured=mail_configured(),
        now=utcnow(),
    )


@bp.get("/<int:message_id>")
@admins_only
def message(message_id: int) -> ResponseReturnValue:
    found = db.session.get(OutboxMessage, message_id)
    if found is None:
        abort(404)
    return render_template("notifications/message.html", message=found, now=utcnow())
