"""A person's words and voice used beyond the group: quotes in reports and voices in radio
recordings, each only with that person's current consent for the purpose.

A quote or a recording is tied to the speaker's participant code; saving one for a code
without current consent is refused, and once consent is withdrawn a quote is left out of
reports and an episode is flagged to staff. Operations flush; the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa

from ..attendance.models import Participant
from ..errors import FieldError
from ..extensions import db
from ..groups.models import ReadingGroup
from ..organisations.models import Partnership, Venue
from ..radio.models import Episode
from .answers import consents_in_force
from .models import EpisodeVoice

# At most this many voices listed for one recording (a Shared Reading group is small).
MAX_VOICES = 30


class ConsentRefused(FieldError):
    """A quote or a voice for a code without current consent for that use; the message says so."""


# What each use is called in a refusal ("… has not consented to …").
USES = {"quotes": "quotes in reports", "radio_voice": "their voice in a radio recording"}


def _missing_consent(codes: list[str], purpose: str) -> str:
    who = f"{codes[0]} has" if len(codes) == 1 else f"{', '.join(codes)} have"
    return (
        f"{who} not consented to {USES[purpose]}: record their consent first, or leave "
        f"{'the code' if len(codes) == 1 else 'the codes'} out."
    )


def participant_by_code(
    code: str, organisation_ids: Iterable[int] | None, field: str
) -> Participant:
    """The one participant with this code among these organisations (None: any), or a refusal
    naming the field."""
    query = sa.select(Participant).where(
        Participant.code == code.strip(), Participant.erased_at.is_(None)
    )
    if organisation_ids is not None:
        query = query.where(Participant.organisation_id.in_(list(organisation_ids)))
    found = db.session.scalars(query.limit(2)).all()
    if not found:
        raise ConsentRefused(f"No participant has the code {code.strip()}.", field)
    if len(found) > 1:
        raise ConsentRefused(
            f"More than one organisation has a participant coded {code.strip()}: give the "
            "source session of the recording, or a code used at one organisation only.",
            field,
        )
    return found[0]


# --- Quotes in reports ---------------------------------------------------------------------------


def partner_participant_organisations(organisation_id: int) -> set[int]:
    """Where the people quoted in a partner's report may be known: the partner itself, and the
    venues' organisations of the groups it partners."""
    hosts = db.session.scalars(
        sa.select(Venue.organisation_id)
        .join(ReadingGroup, ReadingGroup.venue_id == Venue.id)
        .join(Partnership, Partnership.group_id == ReadingGroup.id)
        .where(Partnership.organisation_id == organisation_id)
    )
    return {organisation_id, *hosts}


def quoted_participant(code: str, organisation_id: int, field: str, label: str) -> Participant:
    """The participant a quote in a partner's report comes from, if they consent to quotes."""
    person = participant_by_code(code, partner_participant_organisations(organisation_id), field)
    if person.id not in consents_in_force([person.id], "quotes"):
        raise ConsentRefused(f"{label}: {_missing_consent([person.code], 'quotes')}", field)
    return person


def quotes_consented(participant_ids: Iterable[int | None]) -> set[int]:
    """Of these quoted participants, those who still consent to quotes in reports."""
    return consents_in_force({i for i in participant_ids if i is not None}, "quotes")


# --- Voices in radio recordings ------------------------------------------------------------------

CODE_SEPARATORS = re.compile(r"[\s,;]+")


def split_codes(text: str) -> list[str]:
    """Codes written one a line or separated by commas, each once, in the order given."""
    return list(dict.fromkeys(c for c in CODE_SEPARATORS.split(text) if c))


def set_episode_voices(
    episode: Episode, codes: Iterable[str], listed_by_id: int | None
) -> list[EpisodeVoice]:
    """Replace the list of people heard in an episode. Each code needs current consent to
    their voice in a radio recording; codes are looked up at the organisation of the recorded
    session's venue when the episode names one, else among every organisation's."""
    wanted = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if len(wanted) > MAX_VOICES:
        raise ConsentRefused(f"List at most {MAX_VOICES} codes.", "codes")
    organisations = None
    if episode.source_session is not None:
        organisations = [episode.source_session.group.venue.organisation_id]
    people = [participant_by_code(code, organisations, "codes") for code in wanted]
    consenting = consents_in_force([p.id for p in people], "radio_voice")
    refused = [p.code for p in people if p.id not in consenting]
    if refused:
        raise ConsentRefused(_missing_consent(refused, "radio_voice"), "codes")
    current = {v.participant_id: v for v in episode_voices(episode.id)}
    keep = {p.id for p in people}
    for participant_id, voice in current.items():
        if participant_id not in keep:
            db.session.delete(voice)
    for person in people:
        if person.id not in current:
            db.session.add(
                EpisodeVoice(
                    episode_id=episode.id, participant_id=person.id, listed_by_id=listed_by_id
                )
            )
    db.session.flush()
    return episode_voices(episode.id)


def episode_voices(episode_id: int) -> list[EpisodeVoice]:
    return list(
        db.session.scalars(
            sa.select(EpisodeVoice)
            .join(Participant, Participant.id == EpisodeVoice.participant_id)
            .where(EpisodeVoice.episode_id == episode_id)
            .order_by(Participant.code)
        )
    )


def withdrawn_voices(episode_ids: Iterable[int]) -> dict[int, list[str]]:
    """Episode id -> the codes heard in it of people who no longer consent to their voice in a
    radio recording (withdrawn, or erased with their ledger); episodes with none are left out."""
    ids = list(episode_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(EpisodeVoice.episode_id, Participant.id, Participant.code)
        .join(Participant, Participant.id == EpisodeVoice.participant_id)
        .where(EpisodeVoice.episode_id.in_(ids))
        .order_by(Participant.code)
    ).all()
    consenting = consents_in_force({r[1] for r in rows}, "radio_voice")
    flagged: dict[int, list[str]] = {}
    for episode_id, participant_id, code in rows:
        if participant_id not in consenting:
            flagged.setdefault(episode_id, []).append(code)
    return flagged


WITHDRAWN_WARNING = "Contains the voice of a person who withdrew consent"
