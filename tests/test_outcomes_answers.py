"""The consent ledger and answer sets: no answers without current consent to evaluation, partial
sets stored as partial, every refusal a clear message with nothing written, and withdrawal
taking past answers out of reports as the charity's policy says."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.extensions import db
from readerapp.outcomes.answers import (
    AnswersError,
    AnswerSetData,
    ConsentError,
    consent_in_force,
    consents_in_force,
    record_consent,
    reportable_answer_sets,
    save_answer_set,
)
from readerapp.outcomes.models import AnswerSet, ConsentRecord, MeasureVersion
from readerapp.outcomes.operations import load_builtin_measures, load_measure_file
from readerapp.timeutil import to_local, utcnow

from .test_outcomes_measures import calm_file


def today() -> date:
    return to_local(utcnow()).date()


@pytest.fixture
def world(factory, tmp_path: Path):
    load_builtin_measures()
    load_measure_file(calm_file(tmp_path))
    versions = {v.measure.key: v for v in db.session.scalars(sa.select(MeasureVersion))}
    group = factory.group()
    organisation = group.venue.organisation
    past = factory.session(group, start_dt=utcnow().replace(microsecond=0) - timedelta(days=2))
    person = factory.participant(organisation, code="AWR-001")
    leader = factory.user("reader_leader")
    db.session.flush()
    return versions, group, past, person, leader


def answers_for(person, group, version, **kw):
    return AnswerSetData(
        measure_version_id=version.id,
        group=group,
        participant=person,
        session=kw.pop("session", None),
        answered_on=kw.pop("answered_on", today()),
        mode=kw.pop("mode", "self_paper"),
        answers=kw.pop("answers", {"item1": 4, "item2": 3}),
    )


def test_consent_is_a_ledger_of_entries_with_the_wording_version(world) -> None:
    _, _, _, person, leader = world
    assert not consent_in_force(person.id, "evaluation")
    with pytest.raises(ConsentError, match="no consent to withdraw"):
        record_consent(person, "evaluation", False, today(), leader.id)
    given = record_consent(person, "evaluation", True, today() - timedelta(days=3), leader.id)
    assert given.wording_version == "1" and consent_in_force(person.id, "evaluation")
    assert not consent_in_force(person.id, "quotes")  # each purpose on its own
    with pytest.raises(ConsentError, match="already given") as caught:
        record_consent(person, "evaluation", True, today(), leader.id)
    assert caught.value.conflict
    with pytest.raises(ConsentError, match="give that date or a later one"):
        record_consent(person, "evaluation", False, today() - timedelta(days=4), leader.id)
    with pytest.raises(ConsentError, match="not in the future"):
        record_consent(person, "evaluation", False, today() + timedelta(days=1), leader.id)
    with pytest.raises(ConsentError, match="Choose one of"):
        record_consent(person, "marketing", True, today(), leader.id)
    record_consent(person, "evaluation", False, today(), leader.id)
    assert not consent_in_force(person.id, "evaluation")
    assert consents_in_force([person.id], "evaluation") == set()
    entries = db.session.scalars(sa.select(ConsentRecord).order_by(ConsentRecord.id)).all()
    assert [(e.given, e.purpose) for e in entries] == [(True, "evaluation"), (False, "evaluation")]


def test_no_answers_are_saved_without_current_consent_to_evaluation(world) -> None:
    versions, group, _, person, leader = world
    with pytest.raises(AnswersError, match="has not consented") as caught:
        save_answer_set(answers_for(person, group, versions["calm7"]), leader.id)
    assert caught.value.field == "participant_id"
    # Consent to quotes is not consent to evaluation.
    record_consent(person, "quotes", True, today(), leader.id)
    with pytest.raises(AnswersError, match="has not consented"):
        save_answer_set(answers_for(person, group, versions["calm7"]), leader.id)
    assert db.session.scalar(sa.select(sa.func.count(AnswerSet.id))) == 0

    record_consent(person, "evaluation", True, today(), leader.id)
    saved = save_answer_set(answers_for(person, group, versions["calm7"]), leader.id)
    assert saved.answers == {"item1": 4, "item2": 3} and not saved.complete
    full = {f"item{n}": 2 for n in range(1, 8)}
    complete = save_answer_set(
        answers_for(person, group, versions["calm7"], answers=full, mode="read_aloud"), leader.id
    )
    assert complete.complete and complete.mode == "read_aloud"

    record_consent(person, "evaluation", False, today(), leader.id)
    with pytest.raises(AnswersError, match="has not consented"):
        save_answer_set(answers_for(person, group, versions["calm7"]), leader.id)


def test_bad_answers_are_refused_naming_the_question(world, factory) -> None:
    versions, group, past, person, leader = world
    record_consent(person, "evaluation", True, today(), leader.id)
    calm = versions["calm7"]
    cases = [
        ({"answers": {"item1": 9}}, "answers.item1", "Choose an answer from 1 to 5"),
        ({"answers": {"item9": 1}}, "answers.item9", "no such question"),
        ({"answers": {"item1": "4"}}, "answers.item1", "Choose one of the answers"),
        ({"answers": {"item1": True}}, "answers.item1", "Choose one of the answers"),
        ({"answers": {}}, "answers", "at least one answer"),
        ({"mode": "guessed"}, "mode", "how the questions were answered"),
        ({"answered_on": today() + timedelta(days=1)}, "answered_on", "not in the future"),
        ({"answered_on": date(1999, 12, 31)}, "answered_on", "2000–2100"),
    ]
    for change, field, message in cases:
        with pytest.raises(AnswersError, match=message) as caught:
            save_answer_set(answers_for(person, group, calm, **change), leader.id)
        assert caught.value.field == field, change
    other_group = factory.group()
    elsewhere = factory.session(other_group, start_dt=past.start_dt)
    with pytest.raises(AnswersError, match="another group"):
        save_answer_set(answers_for(person, group, calm, session=elsewhere), leader.id)
    upcoming = factory.session(group, start_dt=utcnow() + timedelta(days=3))
    with pytest.raises(AnswersError, match="not happened yet"):
        save_answer_set(answers_for(person, group, calm, session=upcoming), leader.id)
    stranger = factory.participant(other_group.venue.organisation, code="ELS-001")
    record_consent(stranger, "evaluation", True, today(), leader.id)
    with pytest.raises(AnswersError, match="not known at this group"):
        save_answer_set(answers_for(stranger, group, calm), leader.id)
    assert db.session.scalar(sa.select(sa.func.count(AnswerSet.id))) == 0


def test_anonymous_feedback_needs_a_session_and_a_measure_used_anonymously(world) -> None:
    versions, group, past, _, leader = world
    ons4 = versions["ons4"]
    with pytest.raises(AnswersError, match="belongs to a session"):
        save_answer_set(answers_for(None, group, ons4, answers={"happiness": 7}), leader.id)
    # The made-up licensed scale is used by code only.
    with pytest.raises(AnswersError, match="not used anonymously"):
        save_answer_set(answers_for(None, group, versions["calm7"], session=past), leader.id)
    saved = save_answer_set(
        answers_for(None, group, ons4, session=past, answers={"happiness": 7, "anxiety": 0}),
        leader.id,
    )
    assert saved.participant_id is None and saved.session_id == past.id


@pytest.mark.parametrize("policy", ["remove", "keep"])
def test_withdrawal_takes_past_answers_out_of_reports_as_the_policy_says(
    app: Flask, world, factory, policy: str
) -> None:
    versions, group, past, person, leader = world
    stays = factory.participant(group.venue.organisation, code="AWR-002")
    for someone in (person, stays):
        record_consent(someone, "evaluation", True, today() - timedelta(days=1), leader.id)
        save_answer_set(answers_for(someone, group, versions["calm7"]), leader.id)
    save_answer_set(
        answers_for(None, group, versions["ons4"], session=past, answers={"happiness": 5}),
        leader.id,
    )
    record_consent(person, "evaluation", False, today(), leader.id)
    previous = app.config["OUTCOMES_ON_WITHDRAWAL"]
    app.config["OUTCOMES_ON_WITHDRAWAL"] = policy
    try:
        reported = db.session.scalars(reportable_answer_sets()).all()
    finally:
        app.config["OUTCOMES_ON_WITHDRAWAL"] = previous
    people = sorted((s.participant_id or 0) for s in reported)
    if policy == "remove":
        assert people == [0, stays.id]
    else:
        assert people == sorted([0, stays.id, person.id])
