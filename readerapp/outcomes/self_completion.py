"""A measure answered by the participant on the leader's phone, one question per screen.

The leader starts from a session that has happened: they choose someone registered present
there who has consented to evaluation, and a measure used by participant code (its latest
version), then hand the phone over. The handed-over screens show the current question and
nothing else: no header, no menu, no links, no code or name. Each screen is a plain form, so it
works without script. At the end the participant hands the phone back and the leader saves the
set (mode ``self_phone``, dated the session's local day); a "Stop" on every screen discards it.

Answers in progress are kept on the server, in a ``hand_over`` row (readerapp/outcomes/
hand_over.py) bound to the session, the person, the measure version and the leader. The signed
Flask session cookie, which is readable by whoever holds the browser, carries only a random
token that opens that row: no answers, no item keys. Answers are never put in a URL or a log
line, and the row is deleted at the end, on stopping, on the person's erasure, and once 30
minutes have passed since the last tap.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

from ..access import MAY_LEAD, may_hand_phone_over, require, roles_required
from ..attendance.models import Participant, ParticipantAttendance
from ..errors import FieldError
from ..extensions import db
from ..sessions.models import ReadingSession
from ..sessions.views import load_session
from ..timeutil import utcnow
from ..web.forms import CleanForm
from ..web.saving import save_form
from .answers import AnswerSetData, consents_in_force, save_answer_set
from .definitions import Item, MeasureDefinition
from .hand_over import (
    PROGRESS_LIFETIME,
    find_hand_over,
    is_expired,
    keep_progress,
    open_hand_over,
    remove_hand_over,
)
from .models import HandOver, MeasureVersion
from .schedule import due_at, measures_asked_by_code

bp = Blueprint("outcomes_self", __name__, template_folder="templates")

# The session key holding the token of the hand-over in progress (never the answers).
PROGRESS_KEY = "hand_over"
PROGRESS_LIFETIME_SECONDS = int(PROGRESS_LIFETIME.total_seconds())
SCREEN_VIEWS = {"question", "answer", "stop_confirm", "stop", "finish"}


class HandOverRefused(FieldError):
    """The phone cannot be handed over for this person and measure; the message says why."""


@dataclass
class Progress:
    """What has been answered so far: a working copy of a hand-over row."""

    session_id: int
    participant_id: int
    measure_version_id: int
    leader_id: int
    position: int = 0  # the index of the question on screen; len(items) at the end
    answers: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: HandOver) -> Progress | None:
        """The progress kept, or None when its answers are not in the shape written."""
        answers = row.answers
        if not isinstance(answers, dict) or not all(
            isinstance(k, str) and type(v) is int for k, v in answers.items()
        ):
            return None
        return cls(
            row.session_id,
            row.participant_id,
            row.measure_version_id,
            row.leader_id,
            position=row.position,
            answers=dict(answers),
        )


def _token() -> object:
    return flask_session.get(PROGRESS_KEY)


def _drop() -> None:
    """Forget the hand-over this browser holds: its row and the token in the cookie."""
    token = flask_session.pop(PROGRESS_KEY, None)
    save_form(None, lambda: remove_hand_over(token))


# --- Who may answer, and what ---------------------------------------------------------------------


@dataclass(frozen=True)
class Present:
    participant: Participant
    consented: bool
    due: list[str]


def present_at(session: ReadingSession) -> list[Present]:
    """Everyone registered present at the session, by code, with their consent to evaluation
    and the measures they are due. Participant-level data: for those who lead the group."""
    people = list(
        db.session.scalars(
            sa.select(Participant)
            .join(ParticipantAttendance, ParticipantAttendance.participant_id == Participant.id)
            .where(ParticipantAttendance.session_id == session.id, Participant.erased_at.is_(None))
            .order_by(Participant.code)
        )
    )
    consented = consents_in_force([p.id for p in people], "evaluation")
    due = due_at(session, [p.id for p in people])
    return [
        Present(p, p.id in consented, [d.describe() for d in due.get(p.id, [])]) for p in people
    ]


def latest_versions_by_code() -> list[MeasureVersion]:
    """The latest version of each measure used by participant code."""
    return [measure.versions[-1] for measure in measures_asked_by_code()]


def session_refusal(session: ReadingSession) -> str | None:
    """Why the phone cannot be handed over at this session at all, or None."""
    if session.status == "cancelled":
        return "This session was cancelled: there is nobody to ask."
    if session.start_dt > utcnow():
        return "This session has not happened yet: hand the phone over at the session or after it."
    return None


def begin(
    session: ReadingSession, participant_id: Any, version_id: Any, leader_id: int
) -> Progress:
    """Check the person and the measure chosen; the progress to keep. Raises HandOverRefused."""
    person = next(
        (p for p in present_at(session) if p.participant.id == _as_int(participant_id)), None
    )
    if person is None:
        raise HandOverRefused(
            "Choose someone registered present at this session.", "participant_id"
        )
    if not person.consented:
        raise HandOverRefused(
            f"{person.participant.code} has not consented to taking part in evaluation: record "
            "their consent first.",
            "participant_id",
            conflict=True,
        )
    version = db.session.get(MeasureVersion, _as_int(version_id) or 0)
    if version is None:
        raise HandOverRefused("Choose a measure.", "measure_version_id")
    if version not in latest_versions_by_code():
        name = MeasureDefinition.from_json(version.definition).name
        raise HandOverRefused(
            f"{name} (version {version.version}) is not the latest version of a measure used by "
            "participant code: choose another.",
            "measure_version_id",
        )
    return Progress(session.id, person.participant.id, version.id, leader_id)


# Ids and answers are small: a larger number would overflow the database's integer column.
LARGEST_INT = 2**31 - 1


def _as_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -LARGEST_INT <= number <= LARGEST_INT else None


# --- Views: the leader's start page ---------------------------------------------------------------


def _load(session_id: int) -> ReadingSession:
    session = load_session(session_id)
    require(may_hand_phone_over(current_user, session.group))
    return session


def _refused(
    message: str, status: int, session: ReadingSession | None = None
) -> ResponseReturnValue:
    return render_template("outcomes/self/refused.html", message=message, s=session), status


def _render_start(
    session: ReadingSession,
    form: CleanForm,
    error: HandOverRefused | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    versions = latest_versions_by_code()
    return render_template(
        "outcomes/self/start.html",
        s=session,
        form=form,
        people=present_at(session),
        versions=[(v, MeasureDefinition.from_json(v.definition)) for v in versions],
        error=error,
        chosen_participant=_as_int(request.form.get("participant_id")),
        chosen_version=_as_int(request.form.get("measure_version_id"))
        or (versions[0].id if len(versions) == 1 else None),
    ), status


@bp.get("/sessions/<int:session_id>/hand-over")
@roles_required(MAY_LEAD)
def start(session_id: int) -> ResponseReturnValue:
    session = _load(session_id)
    refusal = session_refusal(session)
    if refusal is not None:
        return _refused(refusal, 409, session)
    return _render_start(session, CleanForm())


@bp.post("/sessions/<int:session_id>/hand-over")
@roles_required(MAY_LEAD)
def begin_view(session_id: int) -> ResponseReturnValue:
    session = _load(session_id)
    refusal = session_refusal(session)
    if refusal is not None:
        return _refused(refusal, 409, session)
    form = CleanForm()
    if not form.validate():
        return _render_start(session, form, status=400)
    try:
        progress = begin(
            session,
            request.form.get("participant_id"),
            request.form.get("measure_version_id"),
            current_user.id,
        )
    except HandOverRefused as error:
        return _render_start(session, form, error, 409 if error.conflict else 400)
    previous = _token()

    def open_new() -> str:
        # Starting again abandons whatever this phone was answering before.
        remove_hand_over(previous)
        return open_hand_over(
            session.id, progress.participant_id, progress.measure_version_id, current_user.id
        )

    opened = save_form(None, open_new)
    if not opened:
        return _refused(f"{opened.message} Nothing was started.", opened.status, session)
    flask_session[PROGRESS_KEY] = opened.value
    return redirect(url_for("outcomes_self.question", session_id=session.id), 303)


# --- Views: the handed-over screens ---------------------------------------------------------------


@dataclass(frozen=True)
class InProgress:
    session: ReadingSession
    row: HandOver
    progress: Progress
    definition: MeasureDefinition

    @property
    def items(self) -> tuple[Item, ...]:
        return self.definition.items

    @property
    def current(self) -> Item | None:
        position = self.progress.position
        return self.items[position] if position < len(self.items) else None


class _NoProgress(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


NOTHING_IN_PROGRESS = (
    "No questions are being answered on this phone just now, so there is nothing to show. "
    "Nothing was saved."
)


def _in_progress(session_id: int) -> InProgress:
    """The progress kept for this session, checked; raises _NoProgress (and drops what is kept)
    when there is none, it is for another session or person, or it has expired."""
    session = _load(session_id)
    row = find_hand_over(_token())
    if row is None:
        # A token that opens nothing (ended, removed, or never ours) is no use to keep.
        flask_session.pop(PROGRESS_KEY, None)
        raise _NoProgress(NOTHING_IN_PROGRESS)
    progress = Progress.from_row(row)
    if progress is None:
        _drop()
        raise _NoProgress(NOTHING_IN_PROGRESS)
    if progress.session_id != session.id:
        raise _NoProgress(NOTHING_IN_PROGRESS)
    if progress.leader_id != current_user.id:
        _drop()
        raise _NoProgress(NOTHING_IN_PROGRESS)
    if is_expired(row):
        _drop()
        raise _NoProgress(
            "These answers were given more than 30 minutes ago, so they have been discarded. "
            "Nothing was saved: the leader can start again from the session page."
        )
    version = db.session.get(MeasureVersion, progress.measure_version_id)
    participant = db.session.get(Participant, progress.participant_id)
    if version is None or participant is None:
        _drop()
        raise _NoProgress(NOTHING_IN_PROGRESS)
    definition = MeasureDefinition.from_json(version.definition)
    if not 0 <= progress.position <= len(definition.items):
        _drop()
        raise _NoProgress(NOTHING_IN_PROGRESS)
    return InProgress(session, row, progress, definition)


def _no_progress(session_id: int, message: str) -> ResponseReturnValue:
    return render_template(
        "outcomes/self/ended.html",
        message=message,
        back=url_for("logbook.detail", session_id=session_id),
    ), 409


def _with_progress(
    view: Callable[[InProgress], ResponseReturnValue],
) -> Callable[[int], ResponseReturnValue]:
    """A screen of answers in progress: the view gets the checked progress of the session in
    its address, or the page says there is none (409) and the view does not run."""

    @functools.wraps(view)
    def with_state(session_id: int) -> ResponseReturnValue:
        try:
            state = _in_progress(session_id)
        except _NoProgress as ended:
            return _no_progress(session_id, ended.message)
        return view(state)

    return with_state


def _screen(state: InProgress, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    item = state.current
    if item is None:
        return render_template("outcomes/self/hand_back.html", state=state, form=CleanForm())
    # A numeric scale (0–10 with labelled ends) shows every number; a worded one its words.
    numeric = any(not option.label for option in item.options)
    return render_template(
        "outcomes/self/question.html",
        state=state,
        item=item,
        numeric=numeric,
        number=state.progress.position + 1,
        form=CleanForm(),
        error=error,
    ), status


@bp.get("/sessions/<int:session_id>/hand-over/question")
@roles_required(MAY_LEAD)
@_with_progress
def question(state: InProgress) -> ResponseReturnValue:
    return _screen(state)


@bp.post("/sessions/<int:session_id>/hand-over/question")
@roles_required(MAY_LEAD)
@_with_progress
def answer(state: InProgress) -> ResponseReturnValue:
    if not CleanForm().validate():
        abort(400)
    item = state.current
    here = url_for("outcomes_self.question", session_id=state.session.id)
    if item is None or request.form.get("item") != item.key:
        # A screen left behind (the browser's Back button): show the question on screen now.
        return redirect(here, 303)
    progress = state.progress
    if request.form.get("action") == "skip":
        progress.answers.pop(item.key, None)
    else:
        value = _as_int(request.form.get("answer"))
        if value is None:
            return _screen(state, "Choose an answer, or skip this question.", 400)
        if value not in {option.value for option in item.options}:
            return _screen(state, "Choose one of the answers shown.", 400)
        progress.answers[item.key] = value
    progress.position += 1
    kept = save_form(None, lambda: keep_progress(state.row, progress.answers, progress.position))
    if not kept:
        # Ended meanwhile (stopped or saved from another tab): the next screen says so.
        flask_session.pop(PROGRESS_KEY, None)
    return redirect(here, 303)


@bp.get("/sessions/<int:session_id>/hand-over/stop")
@roles_required(MAY_LEAD)
@_with_progress
def stop_confirm(state: InProgress) -> ResponseReturnValue:
    return render_template("outcomes/self/stop.html", state=state, show_stop=False)


@bp.post("/sessions/<int:session_id>/hand-over/stop")
@roles_required(MAY_LEAD)
def stop(session_id: int) -> ResponseReturnValue:
    session = _load(session_id)
    if not CleanForm().validate():
        abort(400)
    _drop()
    flash("Stopped: no answers were saved.", "warning")
    return redirect(url_for("logbook.detail", session_id=session.id), 303)


@bp.post("/sessions/<int:session_id>/hand-over/finish")
@roles_required(MAY_LEAD)
@_with_progress
def finish(state: InProgress) -> ResponseReturnValue:
    if not CleanForm().validate():
        abort(400)
    if state.current is not None:
        return redirect(url_for("outcomes_self.question", session_id=state.session.id), 303)
    session, progress = state.session, state.progress
    back = redirect(url_for("logbook.detail", session_id=session.id), 303)
    total, given = len(state.items), len(progress.answers)
    if not given:
        _drop()
        flash("Every question was skipped, so nothing was saved.", "warning")
        return back
    data = AnswerSetData(
        measure_version_id=progress.measure_version_id,
        group=session.group,
        participant=db.session.get(Participant, progress.participant_id),
        session=session,
        answered_on=session.local_start.date(),
        mode="self_phone",
        answers=dict(progress.answers),
    )
    token = _token()

    def save_and_forget() -> object:
        answer_set = save_answer_set(data, current_user.id)
        remove_hand_over(token)  # in the same transaction: saved and forgotten together
        return answer_set

    saved = save_form(None, save_and_forget)
    _drop()  # after a refusal the answers are not kept either
    if not saved:
        return _refused(f"{saved.message} Nothing was saved.", saved.status, session)
    kind = "partial: " if given < total else ""
    flash(f"Answers saved ({kind}{given} of {total}).", "success")
    return back


@bp.after_request
def _not_kept(response: Response) -> Response:
    # The handed-over screens must not come back from the browser's cache once the phone
    # has been handed back.
    if request.endpoint and request.endpoint.split(".")[-1] in SCREEN_VIEWS:
        response.headers["Cache-Control"] = "no-store"
    return response
