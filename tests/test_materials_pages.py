"""The catalogue of texts: managers find, add and correct texts; duplicates and blanks are
refused inline and write nothing; only staff reach the pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.catalogue.queries import MATERIALS_PAGE_SIZE as PAGE_SIZE
from readerapp.extensions import db
from readerapp.sessions.models import ReadingMaterial
from readerapp.timeutil import utcnow

from . import groups_support
from .factories import Factory
from .groups_support import fresh
from .world import World, build_world, client_for

deferred_reads = groups_support.deferred_reads
no_csrf = groups_support.no_csrf
pytestmark = pytest.mark.usefixtures("deferred_reads")


@pytest.fixture
def world() -> World:
    return build_world()


def _materials() -> list[tuple[str, str, str]]:
    fresh()
    return [
        (m.title, m.author, m.kind)
        for m in db.session.scalars(sa.select(ReadingMaterial).order_by(ReadingMaterial.id))
    ]


def _titles(html: str) -> list[str]:
    """The titles listed in the catalogue table, in order."""
    return re.findall(
        r'<th scope="row" data-label="Title"><a href="[^"]*"><cite>(.*?)</cite></a></th>', html
    )


def _usage(html: str, title: str) -> tuple[int, int]:
    """(sessions, episodes) shown on the catalogue row of ``title``."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        if f"<cite>{title}</cite>" in row:
            sessions, episodes = re.findall(r'<td class="num"[^>]*>(\d+)</td>', row)
            return int(sessions), int(episodes)
    raise AssertionError(f"{title} is not listed")


def test_manager_lists_and_searches_the_catalogue(
    app: Flask, world: World, factory: Factory
) -> None:
    factory.material(title="100% Proof", author="Ann Other", kind="poem")
    factory.material(title="100 Poems", author="Bea Poet", kind="poem")
    factory.material(title="Snow_Man", author="Cy Writer")
    factory.material(title="Snowdrop", author="Cy Writer")
    db.session.commit()
    client = client_for(app, world.manager)

    page = client.get("/materials")
    assert page.status_code == 200
    assert '<div class="table-wrap">' in page.text
    assert _titles(page.text) == [
        "100 Poems",
        "100% Proof",
        "Snow_Man",
        "Snowdrop",
        "The Happy Prince",
    ]
    assert "5 texts" in page.text
    # Case-insensitive, on the title or the author.
    assert _titles(client.get("/materials?q=WILDE").text) == ["The Happy Prince"]
    assert _titles(client.get("/materials?q=happy%20PRINCE").text) == ["The Happy Prince"]
    # LIKE wildcards in the search are literal characters.
    assert _titles(client.get("/materials", query_string={"q": "100%"}).text) == ["100% Proof"]
    assert _titles(client.get("/materials", query_string={"q": "snow_"}).text) == ["Snow_Man"]
    assert _titles(client.get("/materials", query_string={"q": "%"}).text) == ["100% Proof"]
    # Filter by kind, with and without a search; an unknown kind is ignored.
    assert _titles(client.get("/materials?kind=poem").text) == ["100 Poems", "100% Proof"]
    assert _titles(client.get("/materials?kind=poem&q=bea").text) == ["100 Poems"]
    assert len(_titles(client.get("/materials?kind=limerick").text)) == 5
    assert "No texts match." in client.get("/materials?q=nothing-like-this").text
    # The nav offers the catalogue to staff.
    assert ">Texts<" in page.text


def test_the_list_is_paged(app: Flask, world: World, factory: Factory) -> None:
    for n in range(PAGE_SIZE + 5):
        factory.material(title=f"Text {n:03}", author="Prolific Author")
    db.session.commit()
    client = client_for(app, world.admin)
    first = client.get("/materials?q=prolific")
    assert len(_titles(first.text)) == PAGE_SIZE
    assert "Page 1 of 2" in first.text and 'rel="next"' in first.text
    second = client.get("/materials?q=prolific&page=2")
    assert _titles(second.text) == [f"Text {n:03}" for n in range(PAGE_SIZE, PAGE_SIZE + 5)]
    # A page past the end shows the last one; nonsense shows the first.
    assert _titles(client.get("/materials?q=prolific&page=99").text) == _titles(second.text)
    assert _titles(client.get("/materials?q=prolific&page=x").text) == _titles(first.text)


def test_usage_counts_come_from_one_query_and_are_right(
    app: Flask, world: World, factory: Factory
) -> None:
    unread = factory.material(title="Unread Story", author="Nobody Yet")
    radio_only = factory.material(title="Radio Poem", author="Wave Writer", kind="poem")
    # The Happy Prince: two delivered sessions and two episodes (so a join of both link tables
    # would count it four times).
    again = factory.session(
        world.group, start_dt=utcnow().replace(microsecond=0) - timedelta(days=21)
    )
    again.status = "delivered"
    again.materials = [world.material]
    world.episode.materials = [world.material]
    second_episode = factory.episode(world.programme, title="Second")
    second_episode.materials = [world.material, radio_only]
    db.session.commit()
    assert unread.id  # flushed

    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", remember)
    try:
        html = client_for(app, world.manager).get("/materials").text
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", remember)

    assert _usage(html, "The Happy Prince") == (2, 2)
    assert _usage(html, "Radio Poem") == (0, 1)
    assert _usage(html, "Unread Story") == (0, 0)
    assert len([s for s in statements if "session_material" in s]) == 1
    assert len([s for s in statements if "episode_material" in s]) == 1
    # The edit page says where the text was read.
    edit = " ".join(
        client_for(app, world.manager).get(f"/materials/{world.material.id}/edit").text.split()
    )
    assert "has been read in 2 sessions and 2 radio episodes" in edit


def test_manager_adds_a_text(app: Flask, world: World, no_csrf: None) -> None:
    client = client_for(app, world.manager)
    assert client.get("/materials/new").status_code == 200
    response = client.post(
        "/materials/new",
        data={"title": "  The Darkling Thrush ", "author": "Thomas Hardy", "kind": "poem"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/materials")
    assert ("The Darkling Thrush", "Thomas Hardy", "poem") in _materials()
    listed = client.get("/materials")
    assert "Added “The Darkling Thrush” by Thomas Hardy" in listed.text
    assert "The Darkling Thrush" in _titles(listed.text)


def test_a_correction_shows_on_the_session_that_read_the_text(
    app: Flask, world: World, no_csrf: None
) -> None:
    material_id, session_id = world.material.id, world.past_session.id
    client = client_for(app, world.manager)
    form = client.get(f"/materials/{material_id}/edit")
    assert form.status_code == 200
    assert 'value="The Happy Prince"' in form.text
    assert "A correction shows wherever the text was read" in form.text
    response = client.post(
        f"/materials/{material_id}/edit",
        data={
            "title": "The Happy Prince and Other Tales",
            "author": "Oscar Wilde",
            "kind": "other",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/materials")
    fresh()
    material = db.session.get(ReadingMaterial, material_id)
    assert (material.title, material.kind) == ("The Happy Prince and Other Tales", "other")
    detail = client.get(f"/sessions/{session_id}").text
    assert "<cite>The Happy Prince and Other Tales</cite> by Oscar Wilde" in detail
    # Changing only the case of its own title is not a clash with itself.
    again = client.post(
        f"/materials/{material_id}/edit",
        data={
            "title": "The happy prince and other tales",
            "author": "oscar wilde",
            "kind": "other",
        },
    )
    assert again.status_code == 302
    assert _materials()[0][:2] == ("The happy prince and other tales", "oscar wilde")


def test_a_duplicate_differing_only_by_case_is_a_409_and_writes_nothing(
    app: Flask, world: World, factory: Factory, no_csrf: None
) -> None:
    other = factory.material(title="The Selfish Giant", author="Oscar Wilde")
    db.session.commit()
    other_id = other.id
    before = _materials()
    client = client_for(app, world.manager)

    added = client.post(
        "/materials/new",
        data={"title": "THE HAPPY PRINCE", "author": "oscar wilde", "kind": "short_story"},
    )
    assert added.status_code == 409
    assert 'id="title-error"' in added.text
    assert "already in the catalogue" in added.text
    assert 'value="THE HAPPY PRINCE"' in added.text  # what was typed is kept
    assert _materials() == before

    corrected = client.post(
        f"/materials/{other_id}/edit",
        data={"title": "the happy prince", "author": "Oscar Wilde", "kind": "poem"},
    )
    assert corrected.status_code == 409
    assert 'id="title-error"' in corrected.text
    # The page still describes the text as it is stored.
    assert "<cite>The Selfish Giant</cite> by Oscar Wilde has been read" in corrected.text
    assert _materials() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),  # passes the form, refused by the operation
        ({"title": "t" * 301}, "title"),
        ({"title": "Bad\x00Title"}, "title"),
        ({"author": ""}, "author"),
        ({"author": "  "}, "author"),
        ({"kind": "limerick"}, "kind"),
    ],
)
def test_bad_input_is_a_400_inline_and_writes_nothing(
    app: Flask, world: World, no_csrf: None, changes: dict[str, str], field: str
) -> None:
    material_id = world.material.id
    before = _materials()
    data = {"title": "A New Text", "author": "A Writer", "kind": "poem"} | changes
    client = client_for(app, world.manager)
    added = client.post("/materials/new", data=data)
    assert added.status_code == 400
    assert f'id="{field}-error"' in added.text
    corrected = client.post(f"/materials/{material_id}/edit", data=data)
    assert corrected.status_code == 400
    assert f'id="{field}-error"' in corrected.text
    assert _materials() == before


def test_unknown_text_is_404(app: Flask, world: World, no_csrf: None) -> None:
    client = client_for(app, world.manager)
    assert client.get("/materials/999999/edit").status_code == 404
    response = client.post(
        "/materials/999999/edit", data={"title": "X", "author": "Y", "kind": "poem"}
    )
    assert response.status_code == 404


def test_leaders_and_partners_read_the_catalogue_and_only_staff_correct_it(
    app: Flask, world: World, no_csrf: None
) -> None:
    """As in the API: everyone reads the catalogue, those who lead sessions add to it, and only
    staff correct a text; partners write nothing."""
    material_id = world.material.id
    before = _materials()
    data = {"title": "Leader's Pick", "author": "Some One", "kind": "poem"}
    for role in ("leader", "other_leader", "partner", "other_partner"):
        client = client_for(app, world.user_for(role))
        page = client.get("/materials")
        assert page.status_code == 200
        assert "The Happy Prince" in page.text
        assert f"/materials/{material_id}/edit" not in page.text
        assert client.get(f"/materials/{material_id}/edit").status_code == 403
        assert client.post(f"/materials/{material_id}/edit", data=data).status_code == 403
        assert ">Texts<" in client.get("/groups").text
    for role in ("partner", "other_partner"):
        client = client_for(app, world.user_for(role))
        assert "/materials/new" not in client.get("/materials").text
        assert client.get("/materials/new").status_code == 403
        assert client.post("/materials/new", data=data).status_code == 403
    assert _materials() == before
    assert client_for(app, None).get("/materials").status_code == 302  # to the sign-in page
    leader = client_for(app, world.leader)
    assert leader.get("/materials/new").status_code == 200
    assert leader.post("/materials/new", data=data).status_code == 302
    assert _materials() == [*before, ("Leader's Pick", "Some One", "poem")]


def test_a_post_without_the_csrf_token_is_refused(app: Flask, world: World) -> None:
    before = _materials()
    response = client_for(app, world.manager).post(
        "/materials/new", data={"title": "No Token", "author": "A Writer", "kind": "poem"}
    )
    assert response.status_code == 400
    assert _materials() == before
