"""A reader leader's phone with no signal, in a real Chromium at 360 px, on both databases.

Signed in online, the phone keeps the dashboard and the fortnight's log forms. Offline, two
sessions are logged (one with a register, one from paper); a reload, still offline, shows both
waiting to send. Back online they are sent: the reply to one is lost after the server wrote it
(route interception aborts it), and sending again still leaves exactly one log. Signing out
clears the phone; a partner's phone keeps nothing. One browser for the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.attendance.models import ParticipantAttendance
from readerapp.extensions import db
from readerapp.logbook.models import LogReceipt
from readerapp.sessions.models import ReadingSession
from readerapp.timeutil import utcnow

from .browser_support import launched_chromium, served
from .factories import PASSWORD, Factory
from .world import SECRET_CODE, build_world

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("reads_do_not_lock")]

PHONE = {"width": 360, "height": 740}
READY = "body[data-offline-ready=yes]"
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    with served(app) as url:
        yield url


@dataclass
class Places:
    leader: str
    partner: str
    register_due: int  # Willow Readers keep a register; SECRET_CODE came before
    ward_due: int  # a headcount-only ward group


@pytest.fixture
def places() -> Places:
    world = build_world()
    f = Factory()
    ward = f.group(world.venue, world.leader, name="Ward 8 Readers")
    ward.keeps_register = False
    ward_due = f.session(ward, start_dt=utcnow().replace(microsecond=0) - timedelta(days=2))
    db.session.commit()
    found = Places(world.leader.email, world.partner.email, world.due_session.id, ward_due.id)
    db.session.rollback()
    return found


def _phone(browser: Any, base: str, email: str) -> tuple[Any, Any]:
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, service_workers="allow"
    )
    page = context.new_page()
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.startswith(f"{base}/sign-in"))
    return context, page


def _session(session_id: int) -> ReadingSession:
    db.session.rollback()
    return db.session.get(ReadingSession, session_id)


def _receipts(session_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).where(LogReceipt.session_id == session_id))


def _kept(page: Any, path: str) -> bool:
    return page.evaluate(
        "async (path) => Boolean(await caches.match(path, {ignoreVary: true}))", path
    )


def _queued(page: Any) -> Any:
    return page.locator("[data-offline-queue] .queued-log")


def _save_offline(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Save the log").click()
    page.wait_for_url("**/sessions")


def test_logs_made_offline_reach_the_server_exactly_once(
    browser: Any, live_server: str, places: Places, artifacts_dir: Path
) -> None:
    from playwright.sync_api import expect

    context, page = _phone(browser, live_server, places.leader)
    try:
        page.wait_for_url(f"{live_server}/sessions")
        assert page.locator("body").get_attribute("data-offline") == "on"
        page.wait_for_selector(READY, state="attached", timeout=WAIT_MS)
        assert _kept(page, f"/sessions/{places.ward_due}/log")
        assert _kept(page, f"/sessions/{places.register_due}/log")
        assert _kept(page, "/sessions")
        # The kept log form holds codes; names are shown only on request, online.
        kept_form = page.evaluate(
            "async (path) => (await caches.match(path, {ignoreVary: true})).text()",
            f"/sessions/{places.register_due}/log",
        )
        assert SECRET_CODE in kept_form and "participant-name" not in kept_form

        context.set_offline(True)
        assert page.evaluate("navigator.onLine") is False
        # A page not kept says so; the kept ones open as they were.
        page.goto(f"{live_server}/account")
        assert page.get_by_role("heading", name="No connection").is_visible()
        page.goto(f"{live_server}/sessions")
        assert page.get_by_role("heading", name="My sessions").is_visible()

        # A headcount-only session, logged later from paper.
        page.goto(f"{live_server}/sessions/{places.ward_due}/log")
        assert page.locator("[data-offline-notice]").is_visible()
        page.get_by_label("Delivered").check()
        page.get_by_label("Participants", exact=True).fill("7")
        page.get_by_label("I'm logging this later from paper").check()
        _save_offline(page)

        # A session with a register: one regular ticked.
        page.goto(f"{live_server}/sessions/{places.register_due}/log")
        page.get_by_label("Delivered").check()
        page.locator("#present label", has_text=SECRET_CODE).click()
        assert page.get_by_label("Participants", exact=True).input_value() == "1"
        _save_offline(page)

        page.reload()
        queued = _queued(page)
        queued.nth(1).wait_for()
        assert queued.count() == 2
        assert queued.filter(has_text="Waiting to send").count() == 2
        assert queued.filter(has_text="Ward 8 Readers").filter(has_text="from paper").count() == 1
        page.screenshot(path=artifacts_dir / "offline-queued.png", full_page=True)
        assert _session(places.ward_due).status == "scheduled"
        assert _session(places.register_due).status == "scheduled"

        # Back online, the replies to the ward's log are lost after the server has it.
        lost: list[int] = []

        def lose_the_reply(route: Any) -> None:
            # The page and the service worker (Background Sync) may both send it.
            if route.request.method == "POST":
                lost.append(route.fetch().status)
                route.abort("connectionreset")
            else:
                route.continue_()

        ward_log = f"**/sessions/{places.ward_due}/log"
        context.route(ward_log, lose_the_reply)
        context.set_offline(False)
        page.get_by_role("button", name="Send now").click()
        expect(_queued(page)).to_have_count(1, timeout=WAIT_MS)
        assert lost and set(lost) == {200}  # answered (after a redirect): the log was written
        ward = _session(places.ward_due)
        assert ward.status == "delivered" and ward.attendance.participants == 7
        written_version = ward.version
        register = _session(places.register_due)
        assert register.status == "delivered" and register.attendance.participants == 1

        # Sent again: the server knows the key, and writes nothing.
        context.unroute(ward_log, lose_the_reply)
        page.get_by_role("button", name="Send now").click()
        expect(_queued(page)).to_have_count(0, timeout=WAIT_MS)
        assert page.locator("[data-offline-queue]").is_hidden()
        ward = _session(places.ward_due)
        assert ward.version == written_version
        assert ward.entered_late_at is not None
        assert _receipts(places.ward_due) == 1
        assert _receipts(places.register_due) == 1
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(
                    ParticipantAttendance.session_id == places.register_due
                )
            )
            == 1
        )

        # Signing out leaves nothing on the phone.
        page.locator("summary.menu-button").click()
        with page.expect_navigation():
            page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/sign-in")
        assert page.evaluate("caches.keys()") == []
        assert page.evaluate("navigator.serviceWorker.getRegistrations()") == []
        databases = page.evaluate("indexedDB.databases()")
        assert not [d for d in databases if d["name"] == "readerapp-offline"]
    finally:
        context.close()


def test_a_partners_phone_keeps_nothing(browser: Any, live_server: str, places: Places) -> None:
    context, page = _phone(browser, live_server, places.partner)
    try:
        assert page.locator("body").get_attribute("data-offline") == ""
        page.goto(f"{live_server}/sessions")
        page.wait_for_load_state("load")
        assert page.evaluate("navigator.serviceWorker.getRegistrations()") == []
        assert page.evaluate("caches.keys()") == []
        response = page.request.get(f"{live_server}/offline/pages.json")
        assert response.status == 403
    finally:
        context.close()
