"""The dashboard's "To log" list (latest first, the oldest flagged), the single way to call off
an upcoming session, and the menu each role gets, through the test client."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from readerapp.extensions import db
from readerapp.timeutil import to_local, utcnow

from .factories import Factory
from .world import World, build_world, client_for

pytestmark = pytest.mark.usefixtures("reads_do_not_lock")


@pytest.fixture
def world() -> World:
    w = build_world()
    db.session.rollback()
    return w


def _logged_ids(html: str) -> list[int]:
    """The sessions the "To log" cards offer to log, in page order."""
    return [int(n) for n in re.findall(r'href="/sessions/(\d+)/log"', html)]


def _card_of(html: str, session_id: int) -> str:
    for card in re.findall(r'<li class="card[^"]*">.*?</li>', html, flags=re.S):
        if f'href="/sessions/{session_id}"' in card:
            return card
    raise AssertionError(f"no card for session {session_id}")


def _nav(html: str) -> str:
    found = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, flags=re.S)
    assert found, "no main navigation"
    return found.group(1)


def _overdue_since(session) -> str:  # type: ignore[no-untyped-def]
    return to_local(session.end_dt, session.tz_name).strftime("%-d %b %Y")


def test_to_log_puts_the_session_just_run_first_and_flags_the_oldest(
    app: Flask, world: World, factory: Factory
) -> None:
    group = db.session.get(type(world.group), world.group.id)
    now = utcnow().replace(second=0, microsecond=0)
    just_run = factory.session(group, start_dt=now - timedelta(hours=2))
    oldest = factory.session(group, start_dt=now - timedelta(days=10))
    ids = (just_run.id, world.due_session.id, oldest.id)
    since = _overdue_since(oldest)
    db.session.commit()

    html = client_for(app, world.leader).get("/sessions").get_data(as_text=True)
    assert _logged_ids(html) == list(ids)
    flag = f"Oldest · overdue since {since}"
    assert html.count(flag) == 1 and flag in _card_of(html, oldest.id)
    assert 'class="card overdue oldest"' in _card_of(html, oldest.id)
    assert "Oldest" not in _card_of(html, just_run.id)
    assert "latest first" in html
    # Every card is on this page, so there is no separate pointer to the oldest.
    assert "Waiting longest" not in html


def test_one_session_to_log_is_not_flagged_as_the_oldest(app: Flask, world: World) -> None:
    html = client_for(app, world.leader).get("/sessions").get_data(as_text=True)
    assert _logged_ids(html) == [world.due_session.id]
    assert "Oldest" not in html and "Waiting longest" not in html


def test_the_oldest_on_a_later_page_is_pointed_to_from_the_first(
    app: Flask, world: World, factory: Factory
) -> None:
    group = db.session.get(type(world.group), world.group.id)
    start = world.due_session.start_dt
    older = [factory.session(group, start_dt=start - timedelta(days=7 * n)) for n in range(1, 30)]
    oldest = older[-1]
    oldest_id, since = oldest.id, _overdue_since(oldest)
    db.session.commit()
    client = client_for(app, world.manager)

    first = client.get("/sessions").get_data(as_text=True)
    assert _logged_ids(first)[0] == world.due_session.id
    assert oldest_id not in _logged_ids(first)
    pointer = re.search(r'<p class="warning" id="oldest-to-log">(.*?)</p>', first, flags=re.S)
    assert pointer, "the oldest is not pointed to"
    assert f'href="/sessions/{oldest_id}"' in pointer.group(1)
    assert f"overdue since {since}" in pointer.group(1)

    last = client.get("/sessions?due_page=2").get_data(as_text=True)
    assert _logged_ids(last)[-1] == oldest_id
    assert f"Oldest · overdue since {since}" in _card_of(last, oldest_id)
    assert "Waiting longest" not in last


def test_an_upcoming_session_is_called_off_only_with_the_cancel_form(
    app: Flask, world: World
) -> None:
    future_id, due_id = world.future_session.id, world.due_session.id
    client = client_for(app, world.leader)
    page = client.get(f"/sessions/{future_id}").get_data(as_text=True)
    assert "Log as cancelled" not in page
    assert f'href="/sessions/{future_id}/log"' not in page
    assert f'href="/sessions/{future_id}/cancel"' in page and "Cancel this session" in page

    # A session that has happened is still logged from its page.
    due = client.get(f"/sessions/{due_id}").get_data(as_text=True)
    assert f'href="/sessions/{due_id}/log"' in due and "Log this session" in due
    # The log form itself is unchanged: reached directly, it still opens.
    assert client.get(f"/sessions/{future_id}/log").status_code == 200


@pytest.mark.parametrize(
    ("role", "tokens_in_menu"),
    [("admin", True), ("manager", True), ("partner", True), ("leader", False)],
)
def test_the_menu_follows_the_role(
    app: Flask, world: World, role: str, tokens_in_menu: bool
) -> None:
    client = client_for(app, world.user_for(role))
    html = client.get("/sessions").get_data(as_text=True)
    # A disclosure that folds the menu away on phones, with the navigation inside it.
    assert re.search(r'<details class="menu">\s*<summary class="menu-button">Menu</summary>', html)
    nav = _nav(html)
    assert ('href="/account/api-tokens"' in nav) == tokens_in_menu
    assert 'href="/sessions"' in nav
    assert ('href="/participants"' in nav) == (role != "partner")
    assert ('href="/admin/users"' in nav) == (role == "admin")
    # Wherever the menu leaves them out, the tokens are a tap away on the account page.
    account = client.get("/account").get_data(as_text=True)
    assert 'href="/account/api-tokens"' in account.split("<main", 1)[1]
