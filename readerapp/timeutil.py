"""Time helpers: everything stored is UTC, everything returned is aware."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app, has_app_context


def utcnow() -> datetime:
    """The current instant, aware, in UTC. Used as a column default (a callable, not a value)."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: every datetime must carry its zone")
    return value.astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


# Files in the zone database that are not zones of a place: "localtime" follows the host's
# clock setting, "posixrules" and "Factory" are tooling artefacts.
NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def known_zones() -> frozenset[str]:
    """IANA zone names a person may choose (read once: the scan walks the zone database)."""
    return frozenset(available_timezones() - NOT_ZONES)


# Regions of the zone database's place names, for when its zone table cannot be read.
ZONE_REGIONS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)


def _zone_table() -> str:
    """zone.tab from the zone database zoneinfo reads (the system's first, then tzdata's)."""
    for base in TZPATH:
        path = Path(base) / "zone.tab"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    try:
        return resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return ""


@cache
def canonical_zones() -> tuple[str, ...]:
    """The zones to pick from a list: one per place (zone.tab) and UTC, sorted; no aliases such
    as "GB" or "US/Eastern", which name the same rules twice."""
    names = {"UTC"}
    for line in _zone_table().splitlines():
        columns = line.split("\t")
        if not line.startswith("#") and len(columns) >= 3:
            names.add(columns[2])
    if len(names) == 1:
        names |= {name for name in known_zones() if name.partition("/")[0] in ZONE_REGIONS}
    return tuple(sorted(names & known_zones()))


def is_valid_zone(name: object) -> bool:
    return isinstance(name, str) and name in known_zones()


def local_zone() -> ZoneInfo:
    """The service's display zone (READERAPP_TIMEZONE), Europe/London unless configured."""
    name = current_app.config["TIMEZONE"] if has_app_context() else "Europe/London"
    return ZoneInfo(name)


def to_local(value: datetime, tz: ZoneInfo | str | None = None) -> datetime:
    if isinstance(tz, str):
        tz = zone(tz)
    return as_utc(value).astimezone(tz or local_zone())


def local_to_utc(day: date, at: time, tz: ZoneInfo | str) -> datetime:
    """A wall-clock time on a day in a zone, as UTC, never refusing: for range bounds (a day's
    midnight) and for expanding group patterns, whose rule is documented in recurrence.py.

    Non-existent times (the skipped hour in spring) move forward by the gap, and ambiguous
    ones (the repeated hour in autumn) take the first occurrence. A time a person entered
    goes through ``local_to_utc_exact`` instead, which refuses both.
    """
    if isinstance(tz, str):
        tz = zone(tz)
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz, fold=0)
    # A wall time in the spring gap does not survive the round trip through UTC.
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        aware = (naive + timedelta(hours=1)).replace(tzinfo=tz)
    return aware.astimezone(UTC)


def local_span(
    start: datetime, end: datetime, tz: ZoneInfo | str | None = None, fmt: str = "%H:%M"
) -> str:
    """Start–end in the zone, "20:00–20:55"; when the clocks change in between, each end
    carries its own abbreviation ("01:30 BST–01:25 GMT"), so an end is never shown as if
    before its start. Each end is converted from its own instant (the duration is absolute)."""
    first, last = to_local(start, tz), to_local(end, tz)
    if first.utcoffset() == last.utcoffset():
        return f"{first.strftime(fmt)}–{last:%H:%M}"
    return f"{first.strftime(fmt)} {first.tzname()}–{last:%H:%M} {last.tzname()}"


@cache
def skipped_spans(name: str) -> tuple[tuple[datetime, datetime], ...]:
    """The wall-clock spans [start, end) a zone's clocks skip in 2000–2100, as naive local
    date-times (e.g. 01:00–02:00 on the last Sunday of March in London); read once a zone."""
    tz = zone(name)
    spans = []
    step = timedelta(days=1)
    instant = datetime(2000, 1, 1, tzinfo=UTC)
    offset = instant.astimezone(tz).utcoffset()
    while instant.year <= 2100:
        following = instant + step
        new = following.astimezone(tz).utcoffset()
        if new != offset:
            # Narrow down to the first second with the new offset.
            low, high = 0, int(step.total_seconds())
            while high - low > 1:
                middle = (low + high) // 2
                if (instant + timedelta(seconds=middle)).astimezone(tz).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            high = instant + timedelta(seconds=high)
            if new is not None and offset is not None and new > offset:
                start = (high + offset).replace(tzinfo=None)
                spans.append((start, start + (new - offset)))
            offset = new
        instant = following
    return tuple(spans)


class LocalTimeError(ValueError):
    """A wall-clock time that names no instant (the spring gap) or two (the autumn repeat)."""

    def __init__(self, message: str, choices: tuple[tuple[int, str], ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        # For a repeated time: (fold, label) per occurrence, e.g. (0, "01:30 BST (first)").
        self.choices = choices


class NonexistentTimeError(LocalTimeError):
    """The clocks skip this time on this day."""


class AmbiguousTimeError(LocalTimeError):
    """The clocks pass this time twice on this day, and no occurrence was chosen."""


def fold_choices(day: date, at: time, tz: ZoneInfo | str) -> tuple[tuple[int, str], ...]:
    """The two occurrences of a repeated wall-clock time, labelled with their zone abbreviation;
    empty when the time happens once (or not at all)."""
    if isinstance(tz, str):
        tz = zone(tz)
    naive = datetime.combine(day, at.replace(fold=0))
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    # Repeated times have the larger offset first; equal offsets mean no change of clocks.
    if not first.astimezone(UTC) < second.astimezone(UTC):
        return ()
    return (
        (0, f"{naive:%H:%M} {first.tzname()} (first)"),
        (1, f"{naive:%H:%M} {second.tzname()} (second)"),
    )


def local_to_utc_exact(
    day: date, at: time, tz: ZoneInfo | str, fold: int | None = None
) -> datetime:
    """A wall-clock time a person chose, as UTC, refusing rather than guessing.

    A time the clocks skip raises NonexistentTimeError; one they repeat raises
    AmbiguousTimeError (with the two choices) unless ``fold`` says which: 0 the first
    occurrence, 1 the second, as in ``datetime.fold``.
    """
    if isinstance(tz, str):
        tz = zone(tz)
    naive = datetime.combine(day, at.replace(fold=0))
    aware = naive.replace(tzinfo=tz, fold=0)
    shown = f"{naive:%H:%M} on {naive:%a %-d %b %Y}"
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        after = aware.astimezone(UTC).astimezone(tz)
        raise NonexistentTimeError(
            f"{shown} does not exist in {tz.key}: the clocks go forward then. "
            f"Choose a time the clocks do not skip (e.g. {after:%H:%M})."
        )
    choices = fold_choices(day, at, tz)
    if choices:
        if fold not in (0, 1):
            raise AmbiguousTimeError(
                f"{shown} happens twice in {tz.key}: the clocks go back then. "
                f"Choose {choices[0][1]} or {choices[1][1]}.",
                choices,
            )
        aware = naive.replace(tzinfo=tz, fold=fold)
    return aware.astimezone(UTC)
