"""The one way a page saves a form: a refusal lands on its field and writes nothing (400, or 409
for a clash), a change made meanwhile is a 409 that keeps what was typed, a success commits
once. Run against the real database of the suite (SQLite, or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask, render_template_string
from flask_wtf import FlaskForm
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from wtforms import StringField

from readerapp.errors import FieldError, VersionConflict
from readerapp.extensions import db
from readerapp.organisations.models import Organisation
from readerapp.sessions.models import ReadingSession
from readerapp.web.errors import CONFLICT_MESSAGE
from readerapp.web.saving import save_form

from .factories import Factory

PAGE = """{% for e in form.form_errors %}<p class="top">{{ e }}</p>{% endfor %}
{% for e in form.name.errors %}<p class="name">{{ e }}</p>{% endfor %}
{{ form.name() }} {{ form.notes() }}"""


class NoteForm(FlaskForm):
    name = StringField("Name")
    notes = StringField("Notes")


@pytest.fixture
def form(app: Flask) -> Iterator[NoteForm]:
    with app.test_request_context("/", method="POST"):
        typed = MultiDict({"name": "Ward 7 readers", "notes": "Words worth keeping"})
        yield NoteForm(formdata=typed, meta={"csrf": False})


@pytest.fixture
def commits() -> Iterator[list[int]]:
    seen: list[int] = []

    def count(session: Session) -> None:
        seen.append(1)

    event.listen(Session, "after_commit", count)
    yield seen
    event.remove(Session, "after_commit", count)


def _organisations() -> list[str]:
    # No rollback first: what a refused save left in the transaction would show here.
    return list(db.session.scalars(sa.select(Organisation.name)))


def _add(name: str) -> Organisation:
    organisation = Organisation(name=name, kind="nhs_trust")
    db.session.add(organisation)
    db.session.flush()
    return organisation


def test_success_commits_once_and_gives_the_value(form: NoteForm, commits: list[int]) -> None:
    saved = save_form(form, lambda: _add(form.name.data))
    assert saved and saved.status == 200
    assert saved.value.name == "Ward 7 readers"
    assert len(commits) == 1
    assert _organisations() == ["Ward 7 readers"]


def _refuse(message: str, field: str | None, *, conflict: bool = False) -> None:
    _add("Written before the refusal")
    raise FieldError(message, field, conflict=conflict)


def test_a_refusal_lands_on_its_field_as_400_and_writes_nothing(
    form: NoteForm, commits: list[int]
) -> None:
    saved = save_form(form, lambda: _refuse("That name is too long.", "name"))
    assert not saved and saved.status == 400 and not saved.changed_meanwhile
    assert form.name.errors == ["That name is too long."]
    assert not form.form_errors and commits == []
    assert _organisations() == []
    with pytest.raises(AttributeError):
        _ = saved.value


def test_a_refusal_for_no_field_of_the_form_goes_to_the_fallback_or_above(
    form: NoteForm,
) -> None:
    saved = save_form(form, lambda: _refuse("Not here.", "venue_id"), field="notes")
    assert saved.status == 400 and form.notes.errors == ["Not here."]
    saved = save_form(form, lambda: _refuse("Nowhere.", None))
    assert form.form_errors == ["Nowhere."]
    assert _organisations() == []


def test_field_names_map_an_operation_input_to_the_form(form: NoteForm) -> None:
    save_form(form, lambda: _refuse("Say more.", "text"), field_names={"text": "notes"})
    assert form.notes.errors == ["Say more."]


def test_a_clash_is_409_on_its_field(form: NoteForm, commits: list[int]) -> None:
    saved = save_form(form, lambda: _refuse("That name is taken.", "name", conflict=True))
    assert saved.status == 409 and not saved.changed_meanwhile
    assert form.name.errors == ["That name is taken."]
    assert commits == [] and _organisations() == []


def test_a_stale_write_in_an_autoflush_is_409_keeping_the_typed_input(
    app: Flask, form: NoteForm, factory: Factory, commits: list[int]
) -> None:
    stored = factory.session()
    session_id = stored.id
    db.session.commit()
    commits.clear()
    reloaded: list[int] = []

    def change() -> None:
        row = db.session.get(ReadingSession, session_id)
        # A concurrent writer's committed UPDATE, as this transaction sees it.
        table = ReadingSession.__table__
        db.session.connection().execute(
            sa.update(table).where(table.c.id == session_id).values(version=table.c.version + 1)
        )
        row.notes = form.notes.data
        _add(form.name.data)
        # The query's autoflush writes the row at the version read: no row matches.
        db.session.scalar(sa.select(sa.func.count()).select_from(Organisation))

    saved = save_form(form, change, reload=lambda: reloaded.append(1))
    assert not saved and saved.status == 409 and saved.changed_meanwhile
    assert saved.message == CONFLICT_MESSAGE and reloaded == [1]
    html = render_template_string(PAGE, form=form)
    assert CONFLICT_MESSAGE.split(",")[0] in html
    assert 'value="Words worth keeping"' in html and 'value="Ward 7 readers"' in html
    assert commits == [] and "Ward 7 readers" not in _organisations()
    assert db.session.get(ReadingSession, session_id).notes != "Words worth keeping"


def test_a_version_conflict_with_the_page_s_own_notice_adds_no_message(form: NoteForm) -> None:
    def stale() -> None:
        _add("Never kept")
        raise VersionConflict(3, 4)

    saved = save_form(form, stale, conflict_notice=True)
    assert saved.status == 409 and saved.changed_meanwhile
    assert not form.form_errors and not form.name.errors
    assert _organisations() == []


def test_without_a_form_the_refusal_is_given_to_the_caller(commits: list[int]) -> None:
    saved = save_form(None, lambda: _refuse("Cannot rotate a revoked feed.", None))
    assert saved.status == 400 and saved.message == "Cannot rotate a revoked feed."
    assert commits == [] and _organisations() == []


def test_a_unique_constraint_met_at_the_write_is_the_duplicate_refusal(
    form: NoteForm, commits: list[int]
) -> None:
    _add("Ward 7 readers")
    db.session.commit()
    commits.clear()
    taken = FieldError("That name is taken.", "name", conflict=True)
    saved = save_form(form, lambda: _add(form.name.data), duplicate=taken)
    assert saved.status == 409 and saved.error is taken
    assert form.name.errors == ["That name is taken."]
    assert commits == [] and _organisations() == ["Ward 7 readers"]


def test_a_page_may_place_a_refusal_itself(form: NoteForm) -> None:
    placed: list[str] = []
    saved = save_form(
        form, lambda: _refuse("Elsewhere.", "name"), attach=lambda e: placed.append(e.message)
    )
    assert saved.status == 400 and placed == ["Elsewhere."]
    assert not form.name.errors and not form.form_errors
