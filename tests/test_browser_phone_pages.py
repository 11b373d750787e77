"""Every main page on a 360 × 740 phone in a real Chromium, for a leader, a manager and a
partner: nothing wider than the screen, a one-row header whose menu opens from the keyboard,
tables read as labelled cards; a screenshot of each page goes to test-artifacts/.

Runs once, on SQLite (``database_neutral``): layout does not depend on the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from readerapp.extensions import db
from readerapp.timeutil import local_zone, to_local, utcnow

from .browser_support import launched_chromium, served, sign_in
from .factories import Factory
from .world import World, build_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.database_neutral,
    pytest.mark.usefixtures("reads_do_not_lock"),
]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
# A 44 px tap target and a little padding; the old header took 160 px in three rows.
HEADER_MAX_PX = 64

Pages = Callable[[World], dict[str, str]]


def _report_query() -> str:
    """The last two months, which hold the world's delivered session."""
    today = to_local(utcnow(), local_zone()).date()
    return f"date_from={(today - timedelta(days=60)).isoformat()}&date_to={today.isoformat()}"


def _everyone(w: World) -> dict[str, str]:
    return {
        "dashboard": "/sessions",
        "groups": "/groups",
        "group": f"/groups/{w.group.id}",
        "session": f"/sessions/{w.past_session.id}",
        "upcoming-session": f"/sessions/{w.future_session.id}",
        "organisation": f"/organisations/{w.host.id}",
        "texts": "/materials",
        "radio": "/radio/",
        "radio-library": "/radio/programmes",
        "account": "/account",
        "api-tokens": "/account/api-tokens",
    }


def _leader(w: World) -> dict[str, str]:
    return _everyone(w) | {
        "participants": "/participants",
        "participant": f"/participants/{w.participant.id}",
        "radio-week": f"/radio/stations/{w.station.id}/week",
        "feeds": "/calendar-feeds/",
    }


def _manager(w: World) -> dict[str, str]:
    return _leader(w) | {
        "organisations": "/organisations",
        "radio-as-run": f"/radio/stations/{w.station.id}/as-run",
        "exports": "/exports/",
        "report": f"/reports/partnership?{_report_query()}&organisation={w.host.id}",
    }


def _partner(w: World) -> dict[str, str]:
    return _everyone(w) | {
        "exports": "/exports/",
        "report": f"/reports/partnership?{_report_query()}",
        "calendar": "/my-calendar/",
    }


ROLES: dict[str, Pages] = {"leader": _leader, "manager": _manager, "partner": _partner}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def base_url(app: Flask) -> Iterator[str]:
    with served(app) as url:
        yield url


def _page_width(page: Any) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _header_height(page: Any) -> float:
    return page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")


@pytest.mark.parametrize("role", list(ROLES))
def test_main_pages_fit_a_phone(
    chromium: Any, base_url: str, artifacts_dir: Path, role: str
) -> None:
    world = build_world()
    # A second session to log, so the dashboard shows its oldest-first flag too.
    Factory().session(world.group, start_dt=world.due_session.start_dt - timedelta(days=7))
    db.session.commit()
    email = world.user_for(role).email
    pages = ROLES[role](world)
    db.session.rollback()
    context = chromium.new_context(**PHONE)
    page = context.new_page()
    try:
        sign_in(page, base_url, email)
        too_wide: dict[str, int] = {}
        for name, path in pages.items():
            response = page.goto(f"{base_url}{path}")
            assert response is not None and response.status == 200, (name, path)
            page.screenshot(path=artifacts_dir / f"phone-{role}-{name}.png", full_page=True)
            if (width := _page_width(page)) > 360:
                too_wide[name] = width
            assert _header_height(page) <= HEADER_MAX_PX, name
        assert too_wide == {}
    finally:
        context.close()


def test_phone_menu_opens_from_the_keyboard_and_shows_a_leader_their_links(
    chromium: Any, base_url: str, artifacts_dir: Path
) -> None:
    world = build_world()
    email = world.leader.email
    db.session.rollback()
    context = chromium.new_context(**PHONE)
    page = context.new_page()
    try:
        sign_in(page, base_url, email)
        menu = page.get_by_role("navigation", name="Main")
        groups_link = menu.get_by_role("link", name="Groups")
        assert not groups_link.is_visible()
        summary = page.locator("summary.menu-button")
        summary.focus()
        page.keyboard.press("Enter")
        assert groups_link.is_visible()
        assert page.get_by_role("link", name="Lee Leader").is_visible()
        assert menu.get_by_role("link", name="API tokens").count() == 0
        page.screenshot(path=artifacts_dir / "phone-leader-menu-open.png", full_page=False)
        page.keyboard.press("Enter")
        assert not groups_link.is_visible()

        # Tables become cards whose cells say which column they belong to.
        page.goto(f"{base_url}/groups")
        venue_cell = page.locator("table.stack-on-phone tbody tr").first.locator("td").first
        label = venue_cell.evaluate("cell => getComputedStyle(cell, '::before').content")
        assert "Venue" in label

        # A participant code stays on one line.
        page.goto(f"{base_url}/participants")
        code = page.locator("table .code").first
        assert code.evaluate("el => getComputedStyle(el).whiteSpace") == "nowrap"

        # Wide screens show the menu in the header row, with no button to press.
        desktop = chromium.new_context(storage_state=context.storage_state(), **DESKTOP)
        try:
            wide = desktop.new_page()
            wide.goto(f"{base_url}/sessions")
            assert (
                wide.get_by_role("navigation", name="Main")
                .get_by_role("link", name="Groups")
                .is_visible()
            )
            assert not wide.locator("summary.menu-button").is_visible()
            wide.screenshot(path=artifacts_dir / "desktop-leader-header.png")
        finally:
            desktop.close()
    finally:
        context.close()
