"""Radio pages: managers and admins do everything; reader leaders read every station's week,
as-run list and library (readerapp.access says why); the station's own partner_viewer reads its
station's; everyone else is refused."""

from readerapp.extensions import db

from .route_table import SIGN_IN, Route, staff


def released(value):  # type: ignore[no-untyped-def]
    """``value`` after ending the test's own transaction: reading the world began one, and on
    SQLite its write lock would keep a POST under test (which begins IMMEDIATE) waiting."""
    db.session.commit()
    return value


# The world's `partner` belongs to a host trust, not to the station, so the station's pages are
# refused to both partners; a station's own partner_viewer is tested in test_radio_pages.py.
STATION_READERS = staff(200) | {"leader": 200, "other_leader": 200}

ROUTES = [
    Route(
        "radio.index",
        lambda w: "/radio/",
        {**STATION_READERS, "partner": 200, "other_partner": 200},
    ),
    Route("radio.week", lambda w: f"/radio/stations/{w.station.id}/week", STATION_READERS),
    Route("radio.as_run_list", lambda w: f"/radio/stations/{w.station.id}/as-run", STATION_READERS),
    Route(
        "radio.new_broadcast", lambda w: f"/radio/stations/{w.station.id}/broadcasts/new", staff()
    ),
    Route(
        "radio.new_broadcast",
        lambda w: released(f"/radio/stations/{w.station.id}/broadcasts/new"),
        staff(400),
        method="POST",
        data=lambda w: released({"episode_id": str(w.episode.id)}),
    ),
    Route("radio.move", lambda w: f"/radio/broadcasts/{w.broadcast.id}/move", staff()),
    Route(
        "radio.move",
        lambda w: released(f"/radio/broadcasts/{w.broadcast.id}/move"),
        staff(400),
        method="POST",
        data=lambda w: released({"air_date": "not a date"}),
    ),
    Route("radio.cancel", lambda w: f"/radio/broadcasts/{w.broadcast.id}/cancel", staff()),
    Route(
        "radio.cancel",
        lambda w: released(f"/radio/broadcasts/{w.broadcast.id}/cancel"),
        staff(400),
        method="POST",
        data=lambda w: released({"reason": ""}),
    ),
    # Everyone who may open the radio pages reads the library of the stations they see.
    Route(
        "radio.library",
        lambda w: "/radio/programmes",
        {**STATION_READERS, "partner": 200, "other_partner": 200},
    ),
    Route("radio.new_programme", lambda w: "/radio/programmes/new", staff()),
    Route(
        "radio.new_programme",
        lambda w: released("/radio/programmes/new"),
        staff(400),
        method="POST",
        data=lambda w: released({"title": ""}),
    ),
    Route("radio.edit_programme", lambda w: f"/radio/programmes/{w.programme.id}/edit", staff()),
    Route(
        "radio.edit_programme",
        lambda w: released(f"/radio/programmes/{w.programme.id}/edit"),
        staff(400),
        method="POST",
        data=lambda w: released({"title": ""}),
    ),
    Route(
        "radio.new_episode", lambda w: f"/radio/programmes/{w.programme.id}/episodes/new", staff()
    ),
    Route(
        "radio.new_episode",
        lambda w: released(f"/radio/programmes/{w.programme.id}/episodes/new"),
        staff(400),
        method="POST",
        data=lambda w: released({"number": "0"}),
    ),
    Route("radio.edit_episode", lambda w: f"/radio/episodes/{w.episode.id}/edit", staff()),
    Route(
        "radio.edit_episode",
        lambda w: released(f"/radio/episodes/{w.episode.id}/edit"),
        staff(400),
        method="POST",
        data=lambda w: released({"title": ""}),
    ),
    Route("episode_voices.voices", lambda w: f"/radio/episodes/{w.episode.id}/voices", staff()),
    # A code nobody has: refused without writing (consent rules in test_outcomes_quotes_and_voices).
    Route(
        "episode_voices.voices_save",
        lambda w: released(f"/radio/episodes/{w.episode.id}/voices"),
        staff(400),
        method="POST",
        data=lambda w: released({"codes": "NOBODY-HAS-THIS"}),
    ),
]

__all__ = ["ROUTES", "SIGN_IN"]
