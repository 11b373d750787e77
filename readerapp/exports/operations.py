"""Writing what managers add to partnership reports: narrative versions and report presets.
Operations flush; the request commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from ..errors import FieldError
from ..extensions import db
from ..outcomes.voices import quoted_participant, quotes_consented
from .models import (
    ATTRIBUTION_MAX,
    NARRATIVE_MAX,
    PRESET_NAME_MAX,
    QUOTE_MAX,
    QUOTES_MAX,
    ReportNarrative,
    ReportPreset,
    ReportQuote,
)
from .partnership_report import SECTIONS, Narrative
from .periods import PERIOD_TYPES

NARRATIVE_CHANGED = (
    "Someone saved a newer version of this narrative while you were editing it. "
    "Read it below, then make your changes again."
)
PRESET_NAME_TAKEN = "A preset with this name exists already"


@dataclass(frozen=True)
class NarrativeScope:
    organisation_id: int
    date_from: date
    date_to: date


@dataclass(frozen=True)
class NarrativeInput:
    text: str
    # (text, attribution, the speaker's participant code or "" when no participant said it)
    quotes: list[tuple[str, str, str]] = field(default_factory=list)
    # The version the writer started from (0: none yet); a newer one saved meanwhile refuses.
    based_on: int = 0


def narrative_versions(scope: NarrativeScope) -> sa.Select[tuple[ReportNarrative]]:
    return (
        sa.select(ReportNarrative)
        .where(
            ReportNarrative.organisation_id == scope.organisation_id,
            ReportNarrative.date_from == scope.date_from,
            ReportNarrative.date_to == scope.date_to,
        )
        .order_by(ReportNarrative.version.desc())
    )


def latest_narrative(scope: NarrativeScope) -> ReportNarrative | None:
    return db.session.scalars(narrative_versions(scope).limit(1)).first()


CheckedQuote = tuple[str, str | None, int | None]  # (text, attribution, participant id)


def _checked(scope: NarrativeScope, data: NarrativeInput) -> tuple[str, list[CheckedQuote]]:
    text = data.text.strip()
    if len(text) > NARRATIVE_MAX:
        raise FieldError(f"The narrative can be at most {NARRATIVE_MAX} characters", "text")
    quotes: list[CheckedQuote] = []
    for index, (quote, attribution, code) in enumerate(data.quotes):
        quote, attribution, code = quote.strip(), attribution.strip(), code.strip()
        if not quote and not attribution:
            if code:
                raise FieldError("Enter the quote, or clear this code", f"code_{index + 1}")
            continue
        if not quote:
            raise FieldError(f"Quote {index + 1}: enter the quote, or clear its attribution")
        if len(quote) > QUOTE_MAX:
            raise FieldError(f"Quote {index + 1} can be at most {QUOTE_MAX} characters")
        if len(attribution) > ATTRIBUTION_MAX:
            raise FieldError(
                f"Quote {index + 1}: the attribution can be at most {ATTRIBUTION_MAX} characters"
            )
        # A participant's words are used only while they consent to quotes in reports.
        speaker = (
            quoted_participant(
                code, scope.organisation_id, f"code_{index + 1}", f"Quote {index + 1}"
            )
            if code
            else None
        )
        quotes.append((quote, attribution or None, speaker.id if speaker else None))
    if len(quotes) > QUOTES_MAX:
        raise FieldError(f"A report can hold at most {QUOTES_MAX} quotes")
    if not text and not quotes:
        raise FieldError("Write a narrative or at least one quote", "text")
    return text, quotes


def save_narrative(
    scope: NarrativeScope, data: NarrativeInput, saved_by_id: int | None
) -> ReportNarrative:
    """Add a version of the scope's narrative and quotes; earlier versions stay as they were."""
    text, quotes = _checked(scope, data)
    latest = latest_narrative(scope)
    current = latest.version if latest is not None else 0
    if data.based_on != current:
        raise FieldError(NARRATIVE_CHANGED, conflict=True)
    narrative = ReportNarrative(
        organisation_id=scope.organisation_id,
        date_from=scope.date_from,
        date_to=scope.date_to,
        version=current + 1,
        text=text,
        saved_by_id=saved_by_id,
        quotes=[
            ReportQuote(
                position=i, text=quote, attribution=attribution, participant_id=participant_id
            )
            for i, (quote, attribution, participant_id) in enumerate(quotes, start=1)
        ],
    )
    db.session.add(narrative)
    db.session.flush()
    return narrative


@dataclass(frozen=True)
class PresetInput:
    name: str
    organisation_id: int | None
    period_type: str
    sections: frozenset[str]
    date_from: date | None = None
    date_to: date | None = None


def create_preset(data: PresetInput, created_by_id: int | None) -> ReportPreset:
    name = data.name.strip()
    if not name:
        raise FieldError("Enter a name", "name")
    if len(name) > PRESET_NAME_MAX:
        raise FieldError(f"The name can be at most {PRESET_NAME_MAX} characters", "name")
    if data.period_type not in PERIOD_TYPES:
        raise FieldError("Choose a kind of period", "period_type")
    unknown = data.sections - set(SECTIONS)
    if unknown:
        raise FieldError("Choose sections from the list", "sections")
    if data.period_type == "custom":
        if data.date_from is None or data.date_to is None:
            raise FieldError("A custom range needs both dates", "date_from")
        if data.date_to < data.date_from:
            raise FieldError("must be on or after the From date", "date_to")
    taken = db.session.scalar(sa.select(ReportPreset.id).where(ReportPreset.name == name))
    if taken is not None:
        raise FieldError(PRESET_NAME_TAKEN, "name", conflict=True)
    custom = data.period_type == "custom"
    preset = ReportPreset(
        name=name,
        organisation_id=data.organisation_id,
        period_type=data.period_type,
        date_from=data.date_from if custom else None,
        date_to=data.date_to if custom else None,
        # In the order the report shows them, so that equal choices are stored alike.
        sections=",".join(s for s in SECTIONS if s in data.sections),
        created_by_id=created_by_id,
    )
    db.session.add(preset)
    db.session.flush()
    return preset


def delete_preset(preset: ReportPreset) -> None:
    db.session.delete(preset)
    db.session.flush()


def narrative_shown(scope: NarrativeScope) -> Narrative | None:
    """The latest version of the scope's narrative, as the report prints it."""
    latest = latest_narrative(scope)
    return shown(latest) if latest is not None else None


def shown(narrative: ReportNarrative) -> Narrative:
    """The narrative as reports print it: a participant's quote only while they still consent
    to quotes in reports (the others are counted, for a note to the writer)."""
    consenting = quotes_consented(q.participant_id for q in narrative.quotes)
    usable = [
        q for q in narrative.quotes if q.participant_id is None or q.participant_id in consenting
    ]
    return Narrative(
        text=narrative.text,
        quotes=[(q.text, q.attribution or "") for q in usable],
        withheld=len(narrative.quotes) - len(usable),
        version=narrative.version,
        saved_by=narrative.saved_by.display_name if narrative.saved_by else "a former user",
        saved_at=narrative.saved_at,
    )
