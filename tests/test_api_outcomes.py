"""Outcomes through the API: measures for those who ask the questions, the consent ledger for
staff and the person's leaders, answer sets for staff and the group's own leaders (every read
audited), and every refusal a problem naming its field with nothing written.

The licensed-style measure is the made-up "Calm scale" of the measures tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from readerapp.audit.models import AuditEvent
from readerapp.extensions import db
from readerapp.outcomes.models import AnswerSet, ConsentRecord
from readerapp.outcomes.operations import load_builtin_measures, load_measure_file
from readerapp.timeutil import to_local, utcnow

from .api_helpers import API_ROLES, ApiWorld, build_api_world, is_problem
from .factories import Factory
from .test_outcomes_measures import calm_file

STAFF = ("admin", "manager")
PARTNERS = ("partner", "other_partner")
CALM = {f"item{n}": 3 for n in range(1, 8)}


def today() -> date:
    return to_local(utcnow()).date()


@dataclass
class OutcomesWorld:
    aw: ApiWorld
    ids: dict[str, int]

    def headers(self, role: str) -> dict[str, str]:
        return self.aw.headers(role)


@pytest.fixture
def ow(tmp_path: Path) -> OutcomesWorld:
    """The API world, the measures loaded, and someone who attended `other_group`'s last
    session (led by `other_leader`) beside the world's participant (who attended `group`'s)."""
    aw = build_api_world()
    load_builtin_measures()
    load_measure_file(calm_file(tmp_path))
    f = Factory()
    w = aw.world
    other_past = f.session(
        w.other_group, start_dt=utcnow().replace(microsecond=0) - timedelta(days=7)
    )
    other_person = f.participant(w.other_host, code="ELS-001")
    f.register(other_past, other_person)
    db.session.commit()
    ids = aw.ids | {"other_past": other_past.id, "other_person": other_person.id}
    return OutcomesWorld(aw, ids)


def consent_url(ow: OutcomesWorld, person: str = "participant") -> str:
    return f"/api/v1/participants/{ow.ids[person]}/consent"


def give_consent(
    client: FlaskClient, ow: OutcomesWorld, person: str = "participant", role: str = "admin"
) -> None:
    given = client.post(
        consent_url(ow, person),
        headers=ow.headers(role),
        json={"purpose": "evaluation", "given": True, "on_date": today().isoformat()},
    )
    assert given.status_code == 201, given.get_data(as_text=True)


def answer_body(ow: OutcomesWorld, **change: object) -> dict[str, object]:
    body: dict[str, object] = {
        "measure_key": "calm7",
        "group_id": ow.ids["group"],
        "participant_id": ow.ids["participant"],
        "answered_on": today().isoformat(),
        "mode": "self_paper",
        "answers": {"item1": 4, "item2": 3},
    }
    return {k: v for k, v in (body | change).items() if v is not ...}


def post_answers(client: FlaskClient, ow: OutcomesWorld, role: str = "leader", **change: object):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/answer-sets", headers=ow.headers(role), json=answer_body(ow, **change)
    )


def count(model: type) -> int:
    db.session.rollback()  # read what the requests committed, not the test's own snapshot
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def view_events() -> list[AuditEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "view_answers").order_by(AuditEvent.id)
        )
    )


# --- Measures ------------------------------------------------------------------------------------


def test_measures_are_listed_with_their_versions_for_staff_and_leaders(
    client: FlaskClient, ow: OutcomesWorld, tmp_path: Path
) -> None:
    load_measure_file(calm_file(tmp_path, version="2", first_item="I have felt at ease"))
    db.session.commit()
    for role in API_ROLES:
        response = client.get("/api/v1/measures", headers=ow.headers(role))
        if role in PARTNERS:
            assert response.status_code == 403 and is_problem(response)
            assert "not passed on" in response.get_json()["detail"]
            continue
        assert response.status_code == 200, role
        assert "X-Pagination" in response.headers
        by_key = {m["key"]: m for m in response.get_json()}
        assert set(by_key) == {"ons4", "calm7"}
        calm = by_key["calm7"]
        assert calm["name"] == "Calm scale (7 items)" and calm["builtin"] is False
        assert [v["version"] for v in calm["versions"]] == ["1", "2"]
        assert calm["versions"][0] == calm["versions"][0] | {
            "acknowledgement": "Calm scale © Example University, used under licence",
            "uses": ["participant"],
            "scoring": "total",
        }
        ons4 = by_key["ons4"]
        assert ons4["builtin"] is True
        assert ons4["versions"][0]["scoring"] == "per_item"
        assert "Office for National Statistics" in ons4["versions"][0]["acknowledgement"]


def test_a_measure_is_given_word_for_word_latest_or_by_version(
    client: FlaskClient, ow: OutcomesWorld, tmp_path: Path
) -> None:
    load_measure_file(calm_file(tmp_path, version="2", first_item="I have felt at ease"))
    db.session.commit()
    headers = ow.headers("leader")
    latest = client.get("/api/v1/measures/calm7", headers=headers)
    assert latest.status_code == 200 and "ETag" in latest.headers
    body = latest.get_json()
    assert (body["version"], body["latest_version"], body["versions"]) == ("2", "2", ["1", "2"])
    assert body["acknowledgement"] == "Calm scale © Example University, used under licence"
    assert body["items"][0]["text"] == "I have felt at ease"
    assert body["items"][0]["options"][0] == {"value": 1, "label": "None of the time"}
    assert (body["scoring"], body["meaningful_change"], body["minimum_pairs"]) == ("total", 3, 30)
    assert body["conversion"]["7"] == 7.0 and len(body["conversion"]) == 29

    first = client.get("/api/v1/measures/calm7?version=1", headers=headers).get_json()
    assert first["version"] == "1" and first["latest_version"] == "2"
    assert first["items"][0]["text"] == "I have felt calm"

    ons4 = client.get("/api/v1/measures/ons4", headers=ow.headers("manager")).get_json()
    assert ons4["scoring"] == "per_item" and ons4["conversion"] is None
    assert [i["key"] for i in ons4["items"]] == [
        "life_satisfaction",
        "worthwhile",
        "happiness",
        "anxiety",
    ]
    assert ons4["items"][3]["higher_is_better"] is False
    assert ons4["items"][0]["options"][0] == {"value": 0, "label": "Not at all"}

    for url in (
        "/api/v1/measures/calm8",
        "/api/v1/measures/calm7?version=3",
        "/api/v1/measures/ons%00",
        "/api/v1/measures/" + "x" * 500,
    ):
        missing = client.get(url, headers=headers)
        assert missing.status_code == 404 and is_problem(missing), url
    unreadable = client.get("/api/v1/measures/calm7?version=%00", headers=headers)
    assert unreadable.status_code == 422 and is_problem(unreadable)
    refused = client.get("/api/v1/measures/calm7", headers=ow.headers("partner"))
    assert refused.status_code == 403 and is_problem(refused)
    assert "I have felt" not in refused.get_data(as_text=True)


# --- Consent -------------------------------------------------------------------------------------


def test_the_consent_ledger_is_read_and_added_to_by_staff_and_the_persons_leaders(
    client: FlaskClient, ow: OutcomesWorld
) -> None:
    url = consent_url(ow)
    yesterday = (today() - timedelta(days=1)).isoformat()
    given = client.post(
        url,
        headers=ow.headers("leader"),
        json={"purpose": "evaluation", "given": True, "on_date": yesterday},
    )
    assert given.status_code == 201, given.get_data(as_text=True)
    entry = given.get_json()
    assert entry == entry | {
        "participant_id": ow.ids["participant"],
        "purpose": "evaluation",
        "given": True,
        "wording_version": "1",
        "on_date": yesterday,
        "recorded_by_id": ow.ids["leader"],
    }
    withdrawn = client.post(
        url,
        headers=ow.headers("manager"),
        json={"purpose": "evaluation", "given": False, "on_date": today().isoformat()},
    )
    assert withdrawn.status_code == 201
    for role in API_ROLES:
        listed = client.get(url, headers=ow.headers(role))
        if role in ("admin", "manager", "leader"):
            assert listed.status_code == 200, role
            assert [(e["given"], e["recorded_by_id"]) for e in listed.get_json()] == [
                (True, ow.ids["leader"]),
                (False, ow.ids["manager"]),
            ]
        else:
            # Someone they may not see, as for the participant itself.
            assert listed.status_code == 404 and is_problem(listed), role
            added = client.post(
                url,
                headers=ow.headers(role),
                json={"purpose": "quotes", "given": True, "on_date": yesterday},
            )
            assert added.status_code == 404 and is_problem(added), role
    # The other group's leader records for the people of their own group.
    other = client.post(
        consent_url(ow, "other_person"),
        headers=ow.headers("other_leader"),
        json={"purpose": "quotes", "given": True, "on_date": yesterday},
    )
    assert other.status_code == 201
    assert client.get(
        consent_url(ow, "other_person"), headers=ow.headers("leader")
    ).status_code == (404)
    assert count(ConsentRecord) == 3


def test_consent_conflicts_are_409_and_bad_entries_422_with_nothing_written(
    client: FlaskClient, ow: OutcomesWorld
) -> None:
    url = consent_url(ow)
    headers = ow.headers("leader")

    def send(**change: object):  # type: ignore[no-untyped-def]
        body = {"purpose": "evaluation", "given": True, "on_date": today().isoformat()} | change
        return client.post(url, headers=headers, json={k: v for k, v in body.items() if v != ...})

    nothing = send(given=False)
    assert nothing.status_code == 409 and is_problem(nothing)
    assert nothing.get_json()["errors"] == {"json": {"given": ["There is no consent to withdraw."]}}
    cases = [
        ({"purpose": "marketing"}, "purpose"),
        ({"purpose": ...}, "purpose"),
        ({"given": "yes"}, "given"),
        ({"given": 1}, "given"),
        ({"given": None}, "given"),
        ({"on_date": "2026-02-30"}, "on_date"),
        ({"on_date": (today() + timedelta(days=1)).isoformat()}, "on_date"),
        ({"on_date": "1999-12-31"}, "on_date"),
        ({"wording_version": "2"}, "wording_version"),
    ]
    for change, field in cases:
        refused = send(**change)
        assert refused.status_code == 422 and is_problem(refused), change
        assert field in refused.get_json()["errors"]["json"], (change, refused.get_json())
    assert count(ConsentRecord) == 0

    assert send(on_date=(today() - timedelta(days=2)).isoformat()).status_code == 201
    again = send()
    assert again.status_code == 409 and is_problem(again)
    assert again.get_json()["errors"]["json"] == {"given": ["Consent is already given."]}
    earlier = send(given=False, on_date=(today() - timedelta(days=3)).isoformat())
    assert earlier.status_code == 422 and "on_date" in earlier.get_json()["errors"]["json"]

    malformed = client.post(url, headers=headers, data="{oops", content_type="application/json")
    assert malformed.status_code == 400 and is_problem(malformed)
    missing = client.post(
        "/api/v1/participants/999999/consent",
        headers=headers,
        json={"purpose": "evaluation", "given": True, "on_date": today().isoformat()},
    )
    assert missing.status_code == 404 and is_problem(missing)
    assert count(ConsentRecord) == 1


# --- Answer sets: writing ------------------------------------------------------------------------


def test_the_groups_leader_enters_an_answer_set_under_consent(
    client: FlaskClient, ow: OutcomesWorld
) -> None:
    give_consent(client, ow)
    saved = post_answers(client, ow)
    assert saved.status_code == 201, saved.get_data(as_text=True)
    body = saved.get_json()
    assert body == body | {
        "measure_key": "calm7",
        "version": "1",
        "group_id": ow.ids["group"],
        "participant_id": ow.ids["participant"],
        "session_id": None,
        "answered_on": today().isoformat(),
        "mode": "self_paper",
        "answers": {"item1": 4, "item2": 3},
        "complete": False,  # partial: stored as given
        "entered_by_id": ow.ids["leader"],
    }
    full = post_answers(
        client,
        ow,
        role="manager",
        version="1",
        session_id=ow.ids["past_session"],
        mode="read_aloud",
        answers=CALM,
    )
    assert full.status_code == 201
    assert full.get_json()["complete"] is True
    assert full.get_json()["session_id"] == ow.ids["past_session"]
    assert count(AnswerSet) == 2


def test_anonymous_session_feedback_names_a_session_and_no_one(
    client: FlaskClient, ow: OutcomesWorld
) -> None:
    saved = post_answers(
        client,
        ow,
        measure_key="ons4",
        participant_id=None,
        session_id=ow.ids["past_session"],
        answers={"happiness": 7, "anxiety": 0},
    )
    assert saved.status_code == 201, saved.get_data(as_text=True)
    assert saved.get_json()["participant_id"] is None


def test_no_answers_without_current_consent_to_evaluation(
    client: FlaskClient, ow: OutcomesWorld
) -> None:
    refused = post_answers(client, ow)
    assert refused.status_code == 422 and is_problem(refused)
    assert list(refused.get_json()["errors"]["json"]) == ["participant_id"]
    assert "has not consented to taking part in evaluation" in refused.get_json()["detail"]

    quotes = client.post(
        consent_url(ow),
        headers=ow.headers("leader"),
        json={"purpose": "quotes", "given": True, "on_date": today().isoformat()},
    )
    assert quotes.status_code == 201
    assert post_answers(client, ow).status_code == 422  # consent to quotes is not to evaluation

    give_consent(client, ow)
    assert post_answers(client, ow).status_code == 201
    withdrawn = client.post(
        consent_url(ow),
        headers=ow.headers("leader"),
        json={"purpose": "evaluation", "given": False, "on_date": today().isoformat()},
    )
    assert withdrawn.status_code == 201
    after = post_answers(client, ow)
    assert after.status_code == 422 and "participant_id" in after.get_json()["errors"]["json"]
    assert count(AnswerSet) == 1


def test_every_bad_answer_set_is_a_problem_on_its_field_and_writes_nothing(
    client: FlaskClient, ow: OutcomesWorld
) -> None:
    give_consent(client, ow)
    give_consent(client, ow, person="other_person")
    future = (today() + timedelta(days=1)).isoformat()
    cases: list[tuple[dict[str, object], str]] = [
        ({"answers": {"item1": 9}}, "answers.item1"),
        ({"answers": {"item9": 1}}, "answers.item9"),
        ({"answers": {"item1": "4"}}, "answers.item1"),
        ({"answers": {"item1": 4.0}}, "answers.item1"),
        ({"answers": {"item2": True}}, "answers.item2"),
        ({"answers": {"item2": [3]}}, "answers.item2"),
        ({"answers": {}}, "answers"),
        ({"answers": [4, 3]}, "answers"),
        ({"answers": {f"item{n}": 1 for n in range(60)}}, "answers"),
        ({"answers": ...}, "answers"),
        ({"measure_key": "calm8"}, "measure_key"),
        ({"measure_key": ...}, "measure_key"),
        ({"version": "7"}, "version"),
        ({"mode": "guessed"}, "mode"),
        ({"answered_on": future}, "answered_on"),
        ({"answered_on": "1999-12-31"}, "answered_on"),
        ({"answered_on": "next week"}, "answered_on"),
        ({"group_id": "one"}, "group_id"),
        ({"participant_id": 999999}, "participant_id"),
        # Someone the leader may not see (they attended another leader's group).
        ({"participant_id": "other_person"}, "participant_id"),
        ({"session_id": 999999}, "session_id"),
        ({"session_id": "other_past"}, "session_id"),  # another group's session
        ({"session_id": "future_session"}, "session_id"),  # not happened yet
        # Anonymous feedback belongs to a session.
        (
            {"measure_key": "ons4", "participant_id": None, "answers": {"happiness": 5}},
            "session_id",
        ),
        # The licensed-style scale is used by code only.
        ({"participant_id": None, "session_id": "past_session"}, "measure_key"),
        ({"colour": "blue"}, "colour"),
    ]
    for change, field in cases:
        named = {
            k: ow.ids[v] if k in ("participant_id", "session_id") and isinstance(v, str) else v
            for k, v in change.items()
        }
        refused = post_answers(client, ow, **named)
        assert refused.status_code == 422 and is_problem(refused), (change, refused.status_code)
        assert field in refused.get_json()["errors"]["json"], (change, refused.get_json())
    malformed = client.post(
        "/api/v1/answer-sets",
        headers=ow.headers("leader"),
        data='{"answers": {"item1": 4',
        content_type="application/json",
    )
    assert malformed.status_code == 400 and is_problem(malformed)
    assert count(AnswerSet) == 0


def test_who_may_enter_answers(client: FlaskClient, ow: OutcomesWorld) -> None:
    give_consent(client, ow)
    expected = {
        "admin": 201,
        "manager": 201,
        "leader": 201,
        "other_leader": 404,  # a group they do not lead, and so cannot see
        "partner": 403,
        "other_partner": 403,
    }
    for role, status in expected.items():
        response = post_answers(client, ow, role=role)
        assert response.status_code == status, (role, response.get_data(as_text=True))
        if status != 201:
            assert is_problem(response)
    assert count(AnswerSet) == 3


# --- Answer sets: reading ------------------------------------------------------------------------


@pytest.fixture
def answered(client: FlaskClient, ow: OutcomesWorld) -> dict[str, int]:
    """Three sets in `group` (two by code, one anonymous) and one in `other_group`."""
    give_consent(client, ow)
    give_consent(client, ow, person="other_person")
    week_ago = (today() - timedelta(days=7)).isoformat()
    made = {
        "first": post_answers(client, ow, answered_on=week_ago, answers=CALM),
        "latest": post_answers(client, ow, role="manager"),
        "anonymous": post_answers(
            client,
            ow,
            measure_key="ons4",
            participant_id=None,
            session_id=ow.ids["past_session"],
            answers={"happiness": 7},
        ),
        "elsewhere": post_answers(
            client,
            ow,
            role="other_leader",
            group_id=ow.ids["other_group"],
            participant_id=ow.ids["other_person"],
        ),
    }
    for name, response in made.items():
        assert response.status_code == 201, (name, response.get_data(as_text=True))
    return {name: response.get_json()["id"] for name, response in made.items()}


def listed(client: FlaskClient, ow: OutcomesWorld, role: str, **query: object) -> list[int]:
    response = client.get("/api/v1/answer-sets", headers=ow.headers(role), query_string=query)
    assert response.status_code == 200, (role, response.get_data(as_text=True))
    return [item["id"] for item in response.get_json()]


def test_who_may_read_answer_sets(
    client: FlaskClient, ow: OutcomesWorld, answered: dict[str, int]
) -> None:
    mine = [answered["first"], answered["latest"], answered["anonymous"]]
    everyone = sorted([*mine, answered["elsewhere"]])
    assert sorted(listed(client, ow, "admin")) == everyone
    assert sorted(listed(client, ow, "manager")) == everyone
    assert sorted(listed(client, ow, "leader")) == sorted(mine)
    assert listed(client, ow, "other_leader") == [answered["elsewhere"]]
    # Naming a group one does not lead shows nothing of it.
    assert listed(client, ow, "other_leader", group_id=ow.ids["group"]) == []
    for role in PARTNERS:
        refused = client.get("/api/v1/answer-sets", headers=ow.headers(role))
        assert refused.status_code == 403 and is_problem(refused)
        assert "aggregate" in refused.get_json()["detail"]


def test_answer_sets_are_filtered_and_paged(
    client: FlaskClient, ow: OutcomesWorld, answered: dict[str, int]
) -> None:
    week_ago = today() - timedelta(days=7)
    assert listed(client, ow, "admin", group_id=ow.ids["group"]) == [
        answered["first"],
        answered["latest"],
        answered["anonymous"],
    ]
    assert listed(client, ow, "admin", participant_id=ow.ids["participant"]) == [
        answered["first"],
        answered["latest"],
    ]
    assert listed(client, ow, "admin", measure_key="ons4") == [answered["anonymous"]]
    assert listed(client, ow, "admin", measure_key="calm8") == []
    assert listed(client, ow, "admin", date_to=week_ago.isoformat()) == [answered["first"]]
    assert listed(
        client, ow, "admin", date_from=(week_ago + timedelta(days=1)).isoformat(), per_page=1
    ) == [answered["latest"]]
    page = client.get("/api/v1/answer-sets?per_page=2&page=2", headers=ow.headers("manager"))
    assert page.headers["X-Pagination"] and len(page.get_json()) == 2
    first = client.get(
        f"/api/v1/answer-sets?participant_id={ow.ids['participant']}", headers=ow.headers("leader")
    ).get_json()[0]
    assert first["answers"] == CALM and first["complete"] is True
    bad = client.get(
        "/api/v1/answer-sets?date_from=2026-02-30&group_id=x&measure_key=ons%00",
        headers=ow.headers("admin"),
    )
    assert bad.status_code == 422 and is_problem(bad)
    assert set(bad.get_json()["errors"]["query"]) == {"date_from", "group_id", "measure_key"}


def test_every_read_of_answer_sets_is_audited(
    client: FlaskClient, ow: OutcomesWorld, answered: dict[str, int]
) -> None:
    assert view_events() == []  # entering answers is not reading them
    shown = listed(client, ow, "leader")
    events = view_events()
    assert sorted(int(e.entity_id or 0) for e in events) == sorted(shown)
    assert {(e.entity_type, e.actor_id) for e in events} == {("answer_set", ow.ids["leader"])}
    assert all(e.changes == {"page": "api"} for e in events)

    listed(client, ow, "manager", measure_key="ons4")
    latest = view_events()[len(events) :]
    assert [(int(e.entity_id or 0), e.actor_id) for e in latest] == [
        (answered["anonymous"], ow.ids["manager"])
    ]
    # Nothing shown, nothing recorded; a refusal shows nothing either.
    listed(client, ow, "other_leader", group_id=ow.ids["group"])
    client.get("/api/v1/answer-sets", headers=ow.headers("partner"))
    assert len(view_events()) == len(events) + 1


# --- The document --------------------------------------------------------------------------------


def test_the_outcomes_resources_are_in_the_openapi_document(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert {"get"} <= paths["/api/v1/measures"].keys()
    assert {"get"} <= paths["/api/v1/measures/{key}"].keys()
    assert {"get", "post"} <= paths["/api/v1/participants/{participant_id}/consent"].keys()
    assert {"get", "post"} <= paths["/api/v1/answer-sets"].keys()
    answers = spec["components"]["schemas"]["AnswerSetInput"]["properties"]["answers"]
    assert answers["additionalProperties"] == {"type": "integer"}
    assert "outcomes" in spec["info"]["description"]


def test_reading_the_consent_ledger_is_audited_entry_by_entry(
    client: FlaskClient, ow: OutcomesWorld
) -> None:
    give_consent(client, ow)
    db.session.rollback()
    entry_id = db.session.scalar(sa.select(ConsentRecord.id))
    for role in ("leader", "manager"):
        assert client.get(consent_url(ow), headers=ow.headers(role)).status_code == 200
    for role in ("other_leader", "partner"):
        assert client.get(consent_url(ow), headers=ow.headers(role)).status_code in (403, 404)
    db.session.rollback()
    shown = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "view_consent").order_by(AuditEvent.id)
    ).all()
    assert [(e.entity_type, e.entity_id) for e in shown] == [("consent_record", str(entry_id))] * 2
    assert [e.actor_id for e in shown] == [ow.ids["leader"], ow.ids["manager"]]
    assert all(e.changes == {"page": "api", "participant_id": ow.ids["participant"]} for e in shown)
