"""Invitations and two-factor sign-in on a 360 px phone, in a real Chromium: a manager sets up
two-factor sign-in at their first sign-in and invites a reader leader, who chooses a password
from the emailed link and signs in; the manager then signs in again with a code.

One browser for the module; screenshots go to test-artifacts/. Skipped on PostgreSQL runs (the
pages are the same) and, with a plain message, when no Chromium is installed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.extensions import db
from readerapp.models import OutboxMessage
from readerapp.timeutil import utcnow

from .browser_support import launched_chromium, served, set_up_two_factor
from .conftest import TEST_DATABASE_URL
from .factories import PASSWORD, Factory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("reads_do_not_lock"),
    pytest.mark.skipif(
        bool(TEST_DATABASE_URL), reason="browser journeys run on SQLite only (same pages)"
    ),
]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
NEW_PASSWORD = "my own long passphrase"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    with served(app) as url:
        saved = app.config["BASE_URL"]
        app.config["BASE_URL"] = url  # the links in messages point at this server
        try:
            yield url
        finally:
            app.config["BASE_URL"] = saved


def _fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url


def _password(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_invitation_and_two_factor_on_a_phone(
    browser: Any, live_server: str, factory: Factory, artifacts_dir: Path
) -> None:
    factory.user("manager", email="mo@example.org", display_name="Mo Manager")
    db.session.commit()
    shots = artifacts_dir / "accounts-phone"

    manager = browser.new_context(**PHONE)
    page = manager.new_page()
    try:
        # First sign-in: the password, then two-factor set-up before anything else.
        _password(page, live_server, "mo@example.org")
        assert page.url == f"{live_server}/sign-in/set-up-two-factor"
        assert page.get_by_role("img", name="QR code for your authenticator app").is_visible()
        _fits(page)
        page.screenshot(path=f"{shots}-1-set-up.png", full_page=True)
        secret = set_up_two_factor(page)
        codes = page.locator(".recovery-codes li")
        assert codes.count() == 10
        _fits(page)
        page.screenshot(path=f"{shots}-2-recovery-codes.png", full_page=True)
        with page.expect_navigation():
            page.get_by_role("link", name="I have kept them: continue").click()

        # The manager invites a reader leader.
        page.goto(f"{live_server}/invitations")
        page.get_by_label("Email").fill("nia@example.org")
        page.get_by_label("Name").fill("Nia Leader")
        page.get_by_label("Role").select_option("reader_leader")
        with page.expect_navigation():
            page.get_by_role("button", name="Send the invitation").click()
        assert page.get_by_text("Invitation sent to nia@example.org.").is_visible()
        _fits(page)
        page.screenshot(path=f"{shots}-3-invited.png", full_page=True)
    finally:
        manager.close()

    body = db.session.scalar(
        sa.select(OutboxMessage.body).where(OutboxMessage.kind == "invitation")
    )
    db.session.rollback()
    link = re.search(r"http://\S+/invitation/\S+", body).group(0)
    assert link.startswith(live_server)

    leader = browser.new_context(**PHONE)
    page = leader.new_page()
    try:
        page.goto(link)
        assert page.get_by_role("heading", name="Welcome, Nia Leader").is_visible()
        _fits(page)
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password again").fill(NEW_PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Create my account").click()
        assert page.url == f"{live_server}/sign-in"
        # A reader leader signs in with the password alone and lands on their sessions.
        _password(page, live_server, "nia@example.org", NEW_PASSWORD)
        page.wait_for_url(f"{live_server}/sessions")
        _fits(page)
        page.screenshot(path=f"{shots}-4-leader-signed-in.png", full_page=True)
        # The link has been spent.
        assert page.goto(link).status == 410
    finally:
        leader.close()

    # The manager's next sign-in asks for a code: a wrong one is refused, the right one works.
    again = browser.new_context(**PHONE)
    page = again.new_page()
    try:
        _password(page, live_server, "mo@example.org")
        assert page.url == f"{live_server}/sign-in/code"
        page.get_by_label("Code").fill("000000")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        assert page.get_by_text("That code is not right.").first.is_visible()
        _fits(page)
        page.screenshot(path=f"{shots}-5-wrong-code.png", full_page=True)
        next_code = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
        page.get_by_label("Code").fill(next_code)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        assert not page.url.startswith(f"{live_server}/sign-in")
        _fits(page)
    finally:
        again.close()
