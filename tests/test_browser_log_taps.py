"""The leader's log on a 360 px phone in a real Chromium, measured: taps (clicks, taps and
ticks) and typed characters, counted from the dashboard with the tap that opens the log.

- the minimal log (delivered, the count, a story and a poem from the catalogue): at most 7 taps
  and 12 characters;
- the full log (5 regulars ticked, a new person, a story and a poem, a one-line note): at most
  14 taps and 60 characters;
- the untouched form, 250 for a group of 8, and three mistakes at once each give the question
  or every error at once, and never a saved log.

The figures are printed (`-s`) and kept in BENCHMARKS.md; screenshots go to test-artifacts/.
One browser for the module. Skipped on PostgreSQL runs (the pages are the same) and, with a
plain message, when no Chromium is installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.attendance.models import Attendance, ParticipantAttendance
from readerapp.extensions import db
from readerapp.sessions.models import ReadingMaterial, ReadingSession
from readerapp.timeutil import utcnow

from .browser_support import launched_chromium, served
from .factories import PASSWORD, Factory
from .world import SECRET_CODE, build_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("reads_do_not_lock"),
    pytest.mark.database_neutral,
]

PHONE = {"width": 360, "height": 740}
MINIMAL_LIMITS = (7, 12)
FULL_LIMITS = (14, 60)
NOTE = "Lively talk on courage; two asked for copies."
REGULARS = [f"WR-{n:03d}" for n in range(1, 8)]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    with served(app) as url:
        yield url


@dataclass
class Places:
    email: str
    register_due: int  # Willow Readers: keeps a register, seven regulars
    ward_due: int  # a headcount-only ward group whose sessions have had at most 8


@pytest.fixture
def places() -> Places:
    world = build_world()
    f = Factory()
    now = utcnow().replace(second=0, microsecond=0)
    f.material(title="The Open Window", author="Saki", kind="short_story")
    f.material(title="Invictus", author="W. E. Henley", kind="poem")
    people = [f.participant(world.host, code=code) for code in REGULARS]
    for weeks in (5, 4, 3):
        earlier = f.session(world.group, start_dt=now - timedelta(weeks=weeks), status="delivered")
        f.attendance(earlier, participants=len(people), first_time=0)
        for person in people:
            f.register(earlier, person, first_time=weeks == 5)
    ward = f.group(world.venue, world.leader, name="Ward 8 Readers")
    ward.keeps_register = False
    for weeks, count in ((3, 5), (2, 8)):
        held = f.session(ward, start_dt=now - timedelta(weeks=weeks), status="delivered")
        f.attendance(held, participants=count, first_time=0)
    ward_due = f.session(ward, start_dt=now - timedelta(days=2))
    db.session.commit()
    found = Places(world.leader.email, world.due_session.id, ward_due.id)
    db.session.rollback()
    return found


class Thumb:
    """Every tap and typed character on the way to a saved log."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.taps = 0
        self.chars = 0

    def tap(self, locator) -> None:  # type: ignore[no-untyped-def]
        locator.tap()
        self.taps += 1

    def type(self, text: str) -> None:
        """Into whatever has the focus (the page moves it on where it can)."""
        self.page.keyboard.type(text)
        self.chars += len(text)

    def type_into(self, locator, text: str) -> None:  # type: ignore[no-untyped-def]
        """Typing into the focused field, for a textarea: headless Chromium emulating a phone
        drops key events sent to one, so the text is filled in (and counted the same)."""
        locator.fill(text)
        self.chars += len(text)


def _phone(browser, live_server: str, email: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/sessions")
    return context, page


def _fits(page) -> bool:  # type: ignore[no-untyped-def]
    return (
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        <= 0
    )


def _pick(thumb: Thumb, page, search: str, title: str) -> None:  # type: ignore[no-untyped-def]
    thumb.type(search)
    thumb.tap(page.locator(".suggestions button", has_text=title))


def _open_log(thumb: Thumb, page, session_id: int) -> None:  # type: ignore[no-untyped-def]
    thumb.tap(page.locator(f'a[href="/sessions/{session_id}/log"]').first)
    page.wait_for_url(f"**/sessions/{session_id}/log")


def _logged(session_id: int) -> ReadingSession:
    db.session.rollback()
    return db.session.get(ReadingSession, session_id)


def _report(name: str, thumb: Thumb) -> None:
    print(f"\n{name} log: {thumb.taps} taps, {thumb.chars} typed characters")


def test_minimal_log(browser, live_server: str, places: Places, artifacts_dir: Path) -> None:
    context, page = _phone(browser, live_server, places.email)
    try:
        catalogue = db.session.scalar(sa.select(sa.func.count()).select_from(ReadingMaterial))
        db.session.rollback()
        thumb = Thumb(page)
        _open_log(thumb, page, places.ward_due)
        assert page.locator("[data-register]").count() == 0  # headcount-only: no register
        assert not page.get_by_label("Why was it cancelled?").is_visible()
        thumb.tap(page.get_by_label("Delivered"))
        thumb.type("7")  # the count has the focus once Delivered is chosen
        thumb.tap(page.locator("#materials-0-title"))
        _pick(thumb, page, "open", "The Open Window")
        assert page.locator("#materials-0-author").input_value() == "Saki"
        _pick(thumb, page, "invi", "Invictus")  # the next title has the focus
        assert page.locator("#materials-1-kind").input_value() == "poem"
        assert _fits(page)
        page.screenshot(path=artifacts_dir / "log-taps-minimal-form.png", full_page=True)
        thumb.tap(page.get_by_role("button", name="Save the log"))
        page.wait_for_url(f"**/sessions/{places.ward_due}")
        assert "The session has been logged." in page.locator("main").inner_text()
        page.screenshot(path=artifacts_dir / "log-taps-minimal-saved.png", full_page=True)
        _report("minimal", thumb)
        assert (thumb.taps, thumb.chars) <= MINIMAL_LIMITS
        assert thumb.taps <= MINIMAL_LIMITS[0] and thumb.chars <= MINIMAL_LIMITS[1]
        s = _logged(places.ward_due)
        assert s.status == "delivered" and s.attendance.participants == 7
        assert sorted((m.title, m.author, m.kind) for m in s.materials) == [
            ("Invictus", "W. E. Henley", "poem"),
            ("The Open Window", "Saki", "short_story"),
        ]
        # Picked from the catalogue, so reused: no new entries.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReadingMaterial)) == (
            catalogue
        )
    finally:
        context.close()


def test_full_log(browser, live_server: str, places: Places, artifacts_dir: Path) -> None:
    context, page = _phone(browser, live_server, places.email)
    try:
        thumb = Thumb(page)
        _open_log(thumb, page, places.register_due)
        thumb.tap(page.get_by_label("Delivered"))
        ticks = page.locator("#present label")
        # Regulars first, the most recently seen (two weeks ago) before the rest.
        assert ticks.nth(0).inner_text().strip() == SECRET_CODE
        for code in REGULARS[:5]:
            thumb.tap(page.locator("#present label", has_text=code))
        thumb.tap(page.get_by_role("button", name="Add a new person: WR-008"))
        assert page.get_by_label("Participants", exact=True).input_value() == "6"
        assert page.get_by_label("Of whom here for the first time").input_value() == "1"
        thumb.tap(page.locator("#materials-0-title"))
        _pick(thumb, page, "open", "The Open Window")
        _pick(thumb, page, "invi", "Invictus")
        thumb.tap(page.locator("#notes"))
        thumb.type_into(page.locator("#notes"), NOTE)
        assert _fits(page)
        page.screenshot(path=artifacts_dir / "log-taps-full-form.png", full_page=True)
        thumb.tap(page.get_by_role("button", name="Save the log"))
        page.wait_for_url(f"**/sessions/{places.register_due}")
        page.screenshot(path=artifacts_dir / "log-taps-full-saved.png", full_page=True)
        _report("full", thumb)
        assert thumb.taps <= FULL_LIMITS[0] and thumb.chars <= FULL_LIMITS[1]
        s = _logged(places.register_due)
        assert (s.status, s.attendance.participants, s.attendance.first_time) == (
            "delivered",
            6,
            1,
        )
        assert s.notes == NOTE
        codes = db.session.scalars(
            sa.select(ParticipantAttendance.participant_id).where(
                ParticipantAttendance.session_id == s.id
            )
        ).all()
        assert len(codes) == 6

        # Back to the form and Save again: the saved log, with a plain word, never an error
        # (the browser shows the page as it was, or fetches the edit form afresh).
        page.go_back()
        page.wait_for_url(f"**/sessions/{places.register_due}/log")
        page.locator(".save-bar button[type=submit]").tap()
        page.wait_for_url(f"**/sessions/{places.register_due}")
        body = page.locator("main").inner_text()
        assert "saved already" in body or "Changes saved." in body
        assert "Already registered" not in body
    finally:
        context.close()


def _nothing_saved(session_id: int) -> None:
    s = _logged(session_id)
    assert s.status == "scheduled"
    assert db.session.scalar(sa.select(Attendance).where(Attendance.session_id == s.id)) is None


def test_untouched_form_is_not_a_log(
    browser, live_server: str, places: Places, artifacts_dir: Path
) -> None:
    context, page = _phone(browser, live_server, places.email)
    try:
        page.goto(f"{live_server}/sessions/{places.ward_due}/log")
        assert page.get_by_label("Participants", exact=True).input_value() == ""
        page.get_by_role("button", name="Save the log").tap()
        summary = page.locator("#error-summary")
        assert "Choose delivered or cancelled." in summary.inner_text()
        assert page.evaluate("document.activeElement.id") == "error-summary"
        page.screenshot(path=artifacts_dir / "log-taps-untouched.png", full_page=True)
        _nothing_saved(places.ward_due)
    finally:
        context.close()


def test_250_for_a_group_of_8_asks_first(
    browser, live_server: str, places: Places, artifacts_dir: Path
) -> None:
    context, page = _phone(browser, live_server, places.email)
    try:
        page.goto(f"{live_server}/sessions/{places.ward_due}/log")
        page.get_by_label("Delivered").tap()
        page.keyboard.type("250")
        page.get_by_role("button", name="Save the log").tap()
        question = page.locator("#confirm-panel")
        assert "250 is more than this group's usual 8 — is that right?" in question.inner_text()
        assert page.evaluate("document.activeElement.id") == "confirm-panel"
        assert _fits(page)
        page.screenshot(path=artifacts_dir / "log-taps-250.png", full_page=True)
        _nothing_saved(places.ward_due)

        # Corrected, it saves without a question.
        page.get_by_label("Participants", exact=True).fill("8")
        page.get_by_role("button", name="Save the log").tap()
        page.wait_for_url(f"**/sessions/{places.ward_due}")
        assert _logged(places.ward_due).attendance.participants == 8
    finally:
        context.close()


def test_three_mistakes_show_at_once(
    browser, live_server: str, places: Places, artifacts_dir: Path
) -> None:
    context, page = _phone(browser, live_server, places.email)
    try:
        page.goto(f"{live_server}/sessions/{places.register_due}/log")
        page.get_by_label("Delivered").tap()
        for code in REGULARS[:3]:
            page.locator("#present label", has_text=code).tap()
        page.get_by_label("Participants", exact=True).fill("1")  # three ticked
        page.get_by_label("Staff and carers").fill("-1")
        page.locator("#materials-0-title").fill("A Story Nobody Knows")  # no author
        page.get_by_role("button", name="Save the log").tap()
        summary = page.locator("#error-summary")
        summary.wait_for()
        assert summary.locator("li").count() == 3
        text = summary.inner_text()
        assert "participants must be at least that" in text
        assert "Enter 0 to 1000" in text
        assert "Give the author of “A Story Nobody Knows”" in text
        # Each mistake marks its own field only.
        invalid = page.locator("[aria-invalid=true]")
        assert sorted(invalid.evaluate_all("els => els.map(e => e.id)")) == [
            "materials-0-author",
            "participants",
            "staff_carers",
        ]
        assert page.evaluate("document.activeElement.id") == "error-summary"
        page.screenshot(path=artifacts_dir / "log-taps-three-mistakes.png", full_page=True)
        _nothing_saved(places.register_due)
    finally:
        context.close()
