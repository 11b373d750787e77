"""A wrong number cannot slip through: the log's rules through the form, the API and the
paper-register import alike. Counts must be chosen; 0 participants, more than the group's usual
most, and more first-timers than the register's new people are saved only once confirmed; every
error shows at once on its own field; a form sent again after Back lands on the saved log."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from readerapp.attendance.models import Attendance
from readerapp.extensions import db
from readerapp.groups.models import ReadingGroup
from readerapp.logbook.operations import (
    DEFAULT_EXPECTED_MAX,
    Headcounts,
    NeedsConfirmation,
    RegisterInput,
    SessionLog,
    expected_maximum,
    log_session,
)
from readerapp.sessions.models import ReadingMaterial, ReadingSession
from readerapp.timeutil import to_local

from .api_helpers import ApiWorld, build_api_world, etag_of, is_problem
from .factories import Factory
from .world import SECRET_CODE, World, build_world, sign_in_as

pytestmark = pytest.mark.usefixtures("reads_do_not_lock")


@pytest.fixture
def world() -> World:
    w = build_world()
    db.session.rollback()
    return w


def _page(client: FlaskClient, url: str) -> tuple[str, dict[str, str]]:
    html = client.get(url).get_data(as_text=True)
    pattern = r'name="(csrf_token|version|form_token)" type="hidden" value="([^"]*)"'
    hidden = dict(re.findall(pattern, html))
    return html, hidden


def _post(client: FlaskClient, url: str, hidden: dict[str, str], **values: object):  # type: ignore[no-untyped-def]
    return client.post(url, data={**hidden, "leader_id": "0", **values})


def _unsaved(session_id: int) -> bool:
    db.session.rollback()
    s = db.session.get(ReadingSession, session_id)
    logged = db.session.scalar(sa.select(Attendance.id).where(Attendance.session_id == s.id))
    return s.status == "scheduled" and logged is None


# --- the form -----------------------------------------------------------------------------------


def test_a_first_log_starts_empty_and_an_untouched_form_saves_nothing(
    client: FlaskClient, world: World
) -> None:
    due = world.due_session.id
    db.session.rollback()
    sign_in_as(client, world.leader)
    url = f"/sessions/{due}/log"
    html, hidden = _page(client, url)
    assert "<h1>Log a session</h1>" in html
    assert 'value="delivered" checked' not in html and "checked" not in html.split("Who came")[0]
    assert re.search(r'id="participants"[^>]*value="0"', html) is None
    response = _post(client, url, hidden)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose delivered or cancelled." in body and 'href="#status-0"' in body
    assert _unsaved(due)


def test_delivered_needs_the_count(client: FlaskClient, world: World) -> None:
    due = world.due_session.id
    db.session.rollback()
    sign_in_as(client, world.leader)
    url = f"/sessions/{due}/log"
    _, hidden = _page(client, url)
    response = _post(client, url, hidden, status="delivered")
    assert response.status_code == 400
    assert "Enter how many participants came" in response.get_data(as_text=True)
    assert _unsaved(due)


@pytest.mark.parametrize(
    ("values", "question"),
    [
        ({"participants": "250"}, "250 is more than this group’s usual 6 — is that right?"),
        ({"participants": "0"}, "Delivered with 0 participants — did nobody come?"),
        (
            {"participants": "4", "first_time": "3", "new_codes": "NEW-1"},
            "3 here for the first time, but the register has 1 new person — is that right?",
        ),
    ],
)
def test_unusual_counts_ask_on_the_same_page_and_save_once_confirmed(
    client: FlaskClient, world: World, values: dict[str, str], question: str
) -> None:
    due = world.due_session.id
    db.session.rollback()
    sign_in_as(client, world.leader)
    url = f"/sessions/{due}/log"
    _, hidden = _page(client, url)
    response = _post(client, url, hidden, status="delivered", **values)
    body = response.get_data(as_text=True).replace("&#39;", "’").replace("'", "’")
    assert response.status_code == 400
    assert question in body and 'id="confirm-panel"' in body
    assert "There is a problem" not in body
    assert _unsaved(due)

    confirmed = _post(client, url, hidden, status="delivered", confirm="y", **values)
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)[:2000]
    db.session.rollback()
    saved = db.session.get(ReadingSession, due)
    assert saved.attendance.participants == int(values["participants"])


def test_every_error_shows_at_once_each_on_its_own_field(client: FlaskClient, world: World) -> None:
    due = world.due_session.id
    db.session.rollback()
    sign_in_as(client, world.leader)
    url = f"/sessions/{due}/log"
    _, hidden = _page(client, url)
    response = _post(
        client,
        url,
        hidden,
        status="delivered",
        participants="1",
        present=[SECRET_CODE],
        new_codes="NEW-1 NEW-2",
        staff_carers="-1",
        **{"materials-0-title": "The Dead", "materials-1-author": "Oscar Wilde"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    summary = html.split('id="error-summary"')[1].split("</div>")[0]
    assert summary.count("<li>") == 4
    for anchor in ("participants", "staff_carers", "materials-0-author", "materials-1-title"):
        assert f'href="#{anchor}"' in summary
    invalid = re.findall(r'id="([\w-]+)"[^>]*aria-invalid="true"', html)
    invalid += re.findall(r'aria-invalid="true"[^>]*id="([\w-]+)"', html)
    assert sorted(set(invalid)) == [
        "materials-0-author",
        "materials-1-title",
        "participants",
        "staff_carers",
    ]
    assert _unsaved(due)


def test_sent_again_after_back_lands_on_the_saved_log(client: FlaskClient, world: World) -> None:
    due = world.due_session.id
    db.session.rollback()
    sign_in_as(client, world.leader)
    url = f"/sessions/{due}/log"
    _, hidden = _page(client, url)
    values = {
        "status": "delivered",
        "participants": "3",
        "first_time": "1",
        "present": [SECRET_CODE],
        "new_codes": "AWR-040",
    }
    assert _post(client, url, hidden, **values).status_code == 302
    again = _post(client, url, hidden, **values)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/sessions/{due}")
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "This log was saved already" in page and "Already registered" not in page


def test_editing_says_so_and_flashes_changes_saved(client: FlaskClient, world: World) -> None:
    past = world.past_session.id
    db.session.rollback()
    sign_in_as(client, world.leader)
    url = f"/sessions/{past}/log"
    html, hidden = _page(client, url)
    assert "<h1>Edit the log</h1>" in html and "Save changes" in html
    assert re.search(r'value="delivered"[^>]*checked|checked[^>]*value="delivered"', html)
    response = _post(
        client,
        url,
        hidden,
        status="delivered",
        participants="6",
        first_time="1",
        present=[SECRET_CODE],
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert "Changes saved." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_register_is_a_tick_list_only_for_groups_that_keep_one(
    client: FlaskClient, world: World
) -> None:
    due, group_id = world.due_session.id, world.group.id
    db.session.rollback()
    sign_in_as(client, world.leader)
    html, _ = _page(client, f"/sessions/{due}/log")
    assert f'type="checkbox" name="present" id="present-0" value="{SECRET_CODE}"' in html
    assert "ZQF-7732" in html  # the next free code of the group's series
    assert "Why was it cancelled?" in html  # without JavaScript the reason shows, with a hint

    db.session.get(ReadingGroup, group_id).keeps_register = False
    db.session.commit()
    other = Factory().session(db.session.get(ReadingGroup, group_id))
    other.start_dt = world.due_session.start_dt - timedelta(days=1)
    other_id = other.id
    db.session.commit()
    html, _ = _page(client, f"/sessions/{other_id}/log")
    assert 'name="present"' not in html and "data-register" not in html


def test_a_catalogue_title_and_author_is_reused_not_added(
    client: FlaskClient, world: World
) -> None:
    due = world.due_session.id
    db.session.rollback()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ReadingMaterial))
    db.session.rollback()
    sign_in_as(client, world.leader)
    url = f"/sessions/{due}/log"
    html, hidden = _page(client, url)
    assert 'data-author="Oscar Wilde" data-kind="short_story"' in html
    response = _post(
        client,
        url,
        hidden,
        status="delivered",
        participants="3",
        **{"materials-0-title": "the happy prince", "materials-0-author": "OSCAR WILDE"},
    )
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReadingMaterial)) == before
    assert [m.title for m in db.session.get(ReadingSession, due).materials] == ["The Happy Prince"]


def test_the_group_sets_its_usual_most(world: World) -> None:
    group = db.session.get(ReadingGroup, world.group.id)
    assert expected_maximum(group) == 6  # the most of its sessions so far
    group.expected_max = 10
    assert expected_maximum(group) == 10
    empty = Factory().group(world.venue)
    assert expected_maximum(empty) == DEFAULT_EXPECTED_MAX
    empty.capacity = 20
    assert expected_maximum(empty) == 20
    db.session.rollback()


def test_the_operation_refuses_unconfirmed_unusual_counts(world: World) -> None:
    due = db.session.get(ReadingSession, world.due_session.id)
    entry = SessionLog(status="delivered", headcounts=Headcounts(participants=250))
    with pytest.raises(NeedsConfirmation) as refused:
        log_session(due, entry, expected_version=None, actor=None)
    assert refused.value.reasons == ["250 is more than this group's usual 6 — is that right?"]
    db.session.rollback()
    due = db.session.get(ReadingSession, world.due_session.id)
    counts = Headcounts(participants=2, first_time=1)
    known = SessionLog(
        status="delivered", headcounts=counts, register=RegisterInput(codes=(SECRET_CODE,))
    )
    with pytest.raises(NeedsConfirmation):  # SECRET_CODE came before: nobody new
        log_session(due, known, expected_version=None, actor=None)
    db.session.rollback()


# --- the API ------------------------------------------------------------------------------------


@pytest.fixture
def aw() -> ApiWorld:
    w = build_api_world()
    db.session.rollback()
    return w


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"participants": 250}, "250 is more than this group's usual 6"),
        ({"participants": 0}, "Delivered with 0 participants"),
        (
            {"participants": 3, "first_time": 2, "register": {"new_codes": ["NEW-9"]}},
            "2 here for the first time, but the register has 1 new person",
        ),
    ],
)
def test_the_api_answers_422_with_the_reason_unless_confirmed(
    client: FlaskClient, aw: ApiWorld, body: dict[str, object], reason: str
) -> None:
    url = f"/api/v1/sessions/{aw.ids['due_session']}/attendance"
    headers = aw.headers("leader")
    etag = etag_of(client, url, headers)
    refused = client.put(url, headers={**headers, "If-Match": etag}, json=body)
    assert refused.status_code == 422 and is_problem(refused)
    problem = refused.get_json()
    assert reason in problem["detail"] and '"confirm": true' in problem["detail"]
    assert "confirm" in problem["errors"]["json"]
    assert _unsaved(aw.ids["due_session"])

    saved = client.put(url, headers={**headers, "If-Match": etag}, json={**body, "confirm": True})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["participants"] == body["participants"]


def test_the_api_schema_documents_confirm(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    confirm = next(s for name, s in schemas.items() if name.startswith("AttendanceInput"))
    assert "unusual" in confirm["properties"]["confirm"]["description"]


# --- the paper-register import ------------------------------------------------------------------


def _upload(client: FlaskClient, group_id: int, text: str):  # type: ignore[no-untyped-def]
    url = f"/groups/{group_id}/import-attendance"
    _, hidden = _page(client, url)
    return client.post(
        url,
        data={
            "csrf_token": hidden["csrf_token"],
            "file": (io.BytesIO(text.encode("utf-8")), "register.csv"),
        },
        content_type="multipart/form-data",
    )


def test_the_import_refuses_a_row_needing_confirmation_unless_its_confirm_cell_says_yes(
    client: FlaskClient, world: World
) -> None:
    due, group_id = world.due_session.id, world.group.id
    day = to_local(world.due_session.start_dt, world.due_session.tz_name).strftime("%Y-%m-%d")
    db.session.rollback()
    sign_in_as(client, world.leader)
    header = "date,status,participants,first_time\n"
    refused = _upload(client, group_id, header + f"{day},delivered,250,0\n")
    html = refused.get_data(as_text=True).replace("&#39;", "'")
    assert refused.status_code == 400
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]*)</td></tr>', html)
    assert rows and rows[0][0] == "2"
    assert "250 is more than this group's usual 6" in rows[0][1] and "confirm" in rows[0][1]
    assert _unsaved(due)

    confirmed = "date,status,participants,confirm\n" + f"{day},delivered,250,yes\n"
    saved = _upload(client, group_id, confirmed)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    db.session.rollback()
    assert db.session.get(ReadingSession, due).attendance.participants == 250


# --- a new person's first name ----------------------------------------------------------------


def test_a_new_person_gets_a_first_name_where_the_organisation_keeps_names(
    client: FlaskClient, world: World
) -> None:
    from readerapp.attendance.models import Participant
    from readerapp.audit.models import AuditEvent

    due, host_id = world.due_session.id, world.host.id
    db.session.rollback()
    sign_in_as(client, world.leader)
    url = f"/sessions/{due}/log"
    html, hidden = _page(client, url)
    assert 'id="new_name"' in html  # the host keeps names
    counts = {"participants": "2", "first_time": "1", "staff_carers": "0", "volunteers": "0"}

    # A name needs exactly one new code.
    both = _post(
        client,
        url,
        hidden,
        status="delivered",
        new_codes="ZQF-7732 ZQF-7733",
        new_name="Ann",
        **counts,
    )
    assert both.status_code == 400 and "Give a name with one new code" in both.text
    assert _unsaved(due)

    saved = _post(
        client, url, hidden, status="delivered", new_codes="zqf-7732", new_name=" Ann ", **counts
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    db.session.rollback()
    person = db.session.scalar(
        sa.select(Participant).where(
            Participant.organisation_id == host_id, Participant.code == "ZQF-7732"
        )
    )
    assert person is not None and person.display_name == "Ann"
    # The trail says the name changed, never what it is.
    trail = db.session.scalars(sa.select(AuditEvent.changes)).all()
    assert not any("Ann" in str(changes) for changes in trail)


def test_no_name_is_asked_or_kept_where_the_organisation_keeps_codes_only(
    client: FlaskClient, world: World
) -> None:
    from readerapp.organisations.models import Organisation

    due, host_id = world.due_session.id, world.host.id
    db.session.get(Organisation, host_id).keep_names = False
    db.session.commit()
    sign_in_as(client, world.leader)
    url = f"/sessions/{due}/log"
    html, hidden = _page(client, url)
    assert 'id="new_name"' not in html
    response = _post(
        client,
        url,
        hidden,
        status="delivered",
        new_codes="ZQF-7732",
        new_name="Ann",
        participants="2",
        first_time="1",
        staff_carers="0",
        volunteers="0",
    )
    assert response.status_code == 400 and "keeps participants as codes only" in response.text
    assert _unsaved(due)
