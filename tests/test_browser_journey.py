"""A leader's journey in a real Chromium: sign in, see the dashboard, log a delivered session
with attendance and materials, and find it on the session and group pages — at phone and
desktop widths, with screenshots saved in test-artifacts/.

Skipped (with a plain message) when no Chromium is installed, unless REQUIRE_BROWSER_TESTS=1
(CI), where a missing browser is a failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from readerapp.extensions import db

from .browser_support import launched_chromium, served, set_up_two_factor
from .factories import PASSWORD
from .world import SECRET_CODE, build_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.database_neutral,
    pytest.mark.usefixtures("reads_do_not_lock"),
]

VIEWPORTS = {"phone": (360, 740), "desktop": (1280, 800)}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # One Chromium for the module (database_neutral: a journey through the pages does not
    # depend on the database, which the rest of the suite checks on both).
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test app served over real HTTP on a free local port."""
    with served(app) as url:
        yield url


@pytest.mark.parametrize("width_name", list(VIEWPORTS))
def test_leader_logs_a_session_and_sees_it(
    app: Flask, browser, live_server: str, artifacts_dir: Path, width_name: str
) -> None:
    world = build_world()
    email, group_id, due_id = world.leader.email, world.group.id, world.due_session.id
    db.session.rollback()
    width, height = VIEWPORTS[width_name]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    shot = artifacts_dir / f"journey-{width_name}"
    try:
        page.goto(f"{live_server}/sign-in")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/sessions")
        assert page.get_by_role("heading", name="My sessions", level=1).is_visible()
        assert page.get_by_role("heading", name="To log").is_visible()
        page.screenshot(path=f"{shot}-1-dashboard.png", full_page=True)

        page.locator(f'a[href="/sessions/{due_id}/log"]').first.click()
        page.wait_for_url(f"{live_server}/sessions/{due_id}/log")
        # Nothing is chosen for the leader: an untouched form cannot pass as a log.
        assert not page.get_by_label("Delivered").is_checked()
        page.get_by_label("Delivered").check()
        page.get_by_label("Participants", exact=True).fill("6")
        page.get_by_label("Of whom here for the first time").fill("1")
        page.get_by_label("Staff and carers").fill("2")
        page.get_by_label("Volunteers").fill("1")
        page.locator("#materials-0-title").fill("The Dead")
        page.locator("#materials-0-author").fill("James Joyce")
        page.locator("#materials-1-title").fill("The Happy Prince")
        page.locator("#materials-1-author").fill("Oscar Wilde")
        page.get_by_label(SECRET_CODE).check()
        page.get_by_label("New people (codes)").fill("NEW-1")
        # The page must fit a phone: nothing wider than the screen.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        page.screenshot(path=f"{shot}-2-log-form.png", full_page=True)
        page.get_by_role("button", name="Save the log").click()

        page.wait_for_url(f"{live_server}/sessions/{due_id}")
        body = page.locator("main").inner_text()
        assert "The session has been logged." in body
        assert "Delivered" in body
        assert "The Dead" in body and "James Joyce" in body
        assert "already read" in body  # The Happy Prince was read two weeks earlier
        assert page.locator("#headcounts").inner_text().split() == [
            "Participants", "6", "First", "time", "1", "Staff", "and", "carers", "2",
            "Volunteers", "1",
        ]  # fmt: skip
        page.screenshot(path=f"{shot}-3-session.png", full_page=True)

        # The group page belongs to the groups area; checked once it exists.
        if "groups.detail" in app.view_functions:
            page.goto(f"{live_server}/groups/{group_id}")
            group_text = page.locator("main").inner_text()
            assert "The Dead" in group_text
            page.screenshot(path=f"{shot}-4-group.png", full_page=True)
    finally:
        context.close()


def _fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    return (
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        <= 0
    )


@pytest.mark.parametrize("width_name", list(VIEWPORTS))
def test_manager_adds_a_one_off_session_and_corrects_a_text(
    app: Flask, browser, live_server: str, artifacts_dir: Path, width_name: str
) -> None:
    world = build_world()
    email, group_id = world.manager.email, world.group.id
    db.session.rollback()
    width, height = VIEWPORTS[width_name]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    shot = artifacts_dir / f"manager-{width_name}"
    try:
        page.goto(f"{live_server}/sign-in?next=/groups/{group_id}")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        # A manager sets up two-factor sign-in at their first sign-in, then goes on.
        set_up_two_factor(page)
        with page.expect_navigation():
            page.get_by_role("link", name="I have kept them: continue").click()
        page.wait_for_url(f"{live_server}/groups/{group_id}")
        page.get_by_role("link", name="Add a one-off session").click()
        page.wait_for_url(f"{live_server}/groups/{group_id}/sessions/new")
        page.get_by_label("Date").fill("2027-07-15")
        page.get_by_label("Start time").fill("14:15")
        assert _fits_the_screen(page)
        page.screenshot(path=f"{shot}-1-new-session.png", full_page=True)
        page.get_by_role("button", name="Add the session").click()
        page.wait_for_url(re.compile(rf"{live_server}/sessions/\d+$"))
        body = page.locator("main").inner_text()
        assert "The session has been added." in body and "14:15" in body

        page.goto(f"{live_server}/materials?q=happy")
        assert _fits_the_screen(page)
        page.screenshot(path=f"{shot}-2-texts.png", full_page=True)
        page.get_by_role("link", name="The Happy Prince").click()
        page.get_by_label("Title").fill("The Happy Prince and Other Tales")
        assert _fits_the_screen(page)
        page.screenshot(path=f"{shot}-3-correct-text.png", full_page=True)
        page.get_by_role("button", name="Save correction").click()
        page.wait_for_url(re.compile(rf"{live_server}/materials$"))
        assert "The Happy Prince and Other Tales" in page.locator("main").inner_text()
    finally:
        context.close()
