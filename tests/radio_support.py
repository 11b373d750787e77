"""A station with the six-episode Shared Reading series, as the demo data and the example
schedule file (schedules/wavelength-shared-reading.toml) expect."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from readerapp.models import Episode, Organisation, Programme

from .factories import Factory

EXAMPLE = Path(__file__).resolve().parent.parent / "schedules" / "wavelength-shared-reading.toml"


@dataclass
class Series:
    station: Organisation
    programme: Programme
    episodes: list[Episode]


def shared_reading_series(f: Factory, name: str = "Wavelength Prison Radio") -> Series:
    station = f.station(name=name, contact_email="schedule@wavelength.example", contact_name="Dev")
    programme = f.programme(station, title="Shared Reading")
    titles = ["Where We Begin", "Roads", "Small Kindnesses", "Homeward", "Holding On", "Sang"]
    episodes = [
        f.episode(programme, number=n, title=t, duration_minutes=55)
        for n, t in enumerate(titles, start=1)
    ]
    return Series(station, programme, episodes)
