"""Loading measure definitions. Flushes; the caller commits (the command, at its end)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from ..extensions import db
from .definitions import MeasureDefinition, builtin_paths, read_measure
from .models import Measure, MeasureVersion


class MeasureLoadError(ValueError):
    """A definition that cannot be loaded as given (the message says what to change)."""


@dataclass(frozen=True)
class Loaded:
    key: str
    version: str
    outcome: str  # "new measure", "new version" or "unchanged"

    def line(self) -> str:
        return f"{self.key} version {self.version}: {self.outcome}"


def load_measure(definition: MeasureDefinition, source: str, builtin: bool = False) -> Loaded:
    """Add a measure version, or recognise one already loaded with the same content.

    A version already loaded with different content is refused: answers given to it must keep
    the wording they were given under, so changed wording needs a new version. A charity's file
    cannot take the key of a measure that ships with readerapp, nor the reverse.
    """
    measure = db.session.scalar(sa.select(Measure).filter_by(key=definition.key))
    if measure is not None and measure.builtin != builtin:
        owner = "ships with readerapp" if measure.builtin else "was loaded from a charity's file"
        raise MeasureLoadError(
            f"{definition.key}: a measure with this key {owner}; use another key"
        )
    if measure is None:
        measure = Measure(key=definition.key, name=definition.name, builtin=builtin)
        db.session.add(measure)
        outcome = "new measure"
    else:
        existing = db.session.scalar(
            sa.select(MeasureVersion).filter_by(measure_id=measure.id, version=definition.version)
        )
        if existing is not None:
            if existing.checksum == definition.checksum:
                return Loaded(definition.key, definition.version, "unchanged")
            raise MeasureLoadError(
                f"{definition.key}: version {definition.version} is already loaded with "
                "different content; give the changed file a new version"
            )
        outcome = "new version"
        measure.name = definition.name
    measure.versions.append(
        MeasureVersion(
            version=definition.version,
            definition=definition.as_json(),
            checksum=definition.checksum,
            source=source[:255],
        )
    )
    db.session.flush()
    return Loaded(definition.key, definition.version, outcome)


def load_measure_file(path: Path) -> Loaded:
    """Check and load a charity's licensed measure (raises MeasureFileError or MeasureLoadError)."""
    return load_measure(read_measure(path), source=path.name)


def load_builtin_measures() -> list[Loaded]:
    """The measures that ship with readerapp; loading them again changes nothing."""
    return [load_measure(read_measure(p), source=p.name, builtin=True) for p in builtin_paths()]
