"""Small things people noticed: the feed form's target lists, the broadcast form's time zone, the
favicon and the API docs' first example."""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from readerapp.radio.forms import BroadcastForm
from readerapp.timeutil import canonical_zones

from .world import build_world, client_for

STATIC = Path(__file__).resolve().parent.parent / "readerapp" / "static"


def test_the_feed_form_marks_each_target_list_with_its_kind_and_hints_it(app: Flask) -> None:
    world = build_world()
    page = client_for(app, world.manager).get("/calendar-feeds/").text
    # Without JavaScript every list shows, each saying which kind of feed it is for.
    for scope, field in (
        ("organisation", "organisation_id"),
        ("group", "group_id"),
        ("leader", "leader_id"),
        ("station", "station_id"),
    ):
        block = re.search(rf'<div data-feed-target="{scope}">(.*?)</div>\s*</div>', page, re.S)
        assert block is not None, scope
        assert f'name="{field}"' in block.group(1) and "Only for “" in block.group(1)
    # With it, only the chosen kind's list shows.
    assert re.search(r'<script src="/static/js/feeds\.js[^"]*" defer></script>', page)
    script = (STATIC / "js" / "feeds.js").read_text()
    assert 'getElementById("scope")' in script and "data-feed-target" in script
    assert ".hidden" in script
    # A leader's own form has no choice to make, and no script.
    assert "feeds.js" not in client_for(app, world.leader).get("/calendar-feeds/").text


def test_the_broadcast_form_offers_canonical_zones_with_london_first_chosen(app: Flask) -> None:
    zones = canonical_zones()
    assert "Europe/London" in zones and "UTC" in zones and "America/New_York" in zones
    for alias in ("GB", "US/Eastern", "localtime", "posixrules", "Etc/GMT+1"):
        assert alias not in zones
    assert list(zones) == sorted(zones)
    with app.test_request_context():
        form = BroadcastForm(meta={"csrf": False})
        markup = str(form.tz_name())
    assert markup.startswith("<select") and '<option selected value="Europe/London">' in markup
    with app.test_request_context(method="POST", data={"tz_name": "GB"}):
        form = BroadcastForm(meta={"csrf": False})
        assert not form.tz_name.validate(form)  # the view fills the other fields' choices
        assert form.tz_name.errors == ["Choose a time zone from the list, such as Europe/London."]


def test_favicon_answers_and_pages_link_it(client: FlaskClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.content_type == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/sign-in").text


def test_the_api_docs_first_example_is_complete_and_fits_the_page(client: FlaskClient) -> None:
    page = client.get("/api/v1/docs").text
    first = re.search(r'<pre class="api-example"><code>(.*?)</code></pre>', page, re.S)
    assert first is not None
    example = html.unescape(first.group(1))
    lines = example.splitlines()
    assert lines[0].startswith("TOKEN=")  # what $TOKEN is, before it is used
    command = " ".join(line.rstrip("\\ ").strip() for line in lines[1:])
    assert command == (
        'curl -H "Authorization: Bearer $TOKEN" '
        '"http://localhost/api/v1/sessions?from=2026-03-01&to=2026-03-31&per_page=50"'
    )
    assert all(line.endswith("\\") for line in lines[1:-1])
    assert max(len(line) for line in lines) <= 90  # no line runs off the panel
