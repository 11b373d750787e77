"""One way for a page to save what a form asked for.

    saved = save_form(form, lambda: create_group(data), field="name")
    if saved:
        flash("Group created.", "success")
        return redirect(url_for("groups.detail", group_id=saved.value.id))
    return render_template("groups/form.html", form=form), saved.status

The operation flushes but never commits; this commits once. A refusal (a ``FieldError``) rolls
back and lands on the field it names (400, or 409 when it clashes with existing data); a change
made meanwhile (``VersionConflict``, or ``StaleDataError`` from any flush: an autoflush inside
a query, the operation's own flush or the commit) rolls back and answers 409 with the typed
input kept. Either way nothing is written. Anything else is left to the app's error handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..errors import FieldError, VersionConflict
from ..extensions import db
from .errors import CONFLICT_MESSAGE

R = TypeVar("R")

_UNSET = object()


class Saved(Generic[R]):
    """What a save came to: true when committed (``value`` is the operation's result), false
    with the answer's ``status`` (400 or 409) when nothing was written."""

    def __init__(
        self,
        value: object = _UNSET,
        *,
        status: int = 200,
        error: FieldError | None = None,
        changed_meanwhile: bool = False,
    ) -> None:
        self._value = value
        self.status = status
        self.error = error
        self.changed_meanwhile = changed_meanwhile

    def __bool__(self) -> bool:
        return self._value is not _UNSET

    @property
    def value(self) -> R:
        if self._value is _UNSET:
            raise AttributeError("nothing was saved: there is no value")
        return self._value  # type: ignore[return-value]

    @property
    def message(self) -> str:
        """The refusal, for a page that flashes it instead of showing a form."""
        if self.changed_meanwhile:
            return CONFLICT_MESSAGE
        return self.error.message if self.error is not None else ""


def attach_error(form: FlaskForm, message: str, name: str | None, fallback: str | None) -> None:
    """Show a message on the named field, else on the fallback field, else above the form."""
    for candidate in (name, fallback):
        if candidate and candidate in form:
            field = form[candidate]
            # A field's errors may be a tuple before validation has run.
            field.errors = [*field.errors, message]
            return
    form.form_errors.append(message)


def _rollback() -> None:
    # Every loaded row is expired: the page re-renders from what the database holds now.
    db.session.rollback()


def save_form(
    form: FlaskForm | None,
    operation: Callable[[], R],
    *,
    field: str | None = None,
    field_names: dict[str, str] | None = None,
    conflict_notice: bool = False,
    reload: Callable[[], object] | None = None,
    attach: Callable[[FieldError], None] | None = None,
    duplicate: FieldError | None = None,
) -> Saved[R]:
    """Run ``operation`` and commit, or roll back and say why on ``form``.

    ``field`` is where a refusal goes when it names no field of this form (None: above the
    form); ``field_names`` maps an operation's input names to this form's field names.
    ``conflict_notice`` says the page shows its own notice for a change made meanwhile;
    otherwise the conflict message goes above the form. ``reload`` runs after a rollback, for
    a page that re-checks what it loaded (say, permission) before re-rendering. ``attach``
    places a refusal itself, for a page that shows some errors in its own places.
    ``duplicate`` is the refusal for a unique constraint met at the write: someone saved the
    same thing between the operation's check and its write."""
    try:
        try:
            value = operation()
            db.session.commit()
        except IntegrityError:
            if duplicate is None:
                raise
            raise duplicate from None
    except (VersionConflict, StaleDataError):
        _rollback()
        if reload is not None:
            reload()
        if form is not None and not conflict_notice:
            form.form_errors.append(CONFLICT_MESSAGE)
        return Saved(status=409, changed_meanwhile=True)
    except FieldError as error:
        _rollback()
        if reload is not None:
            reload()
        if attach is not None:
            attach(error)
        elif form is not None:
            name = (field_names or {}).get(error.field or "", error.field)
            attach_error(form, error.message, name, field)
        return Saved(status=409 if error.conflict else 400, error=error)
    return Saved(value)
