"""Writes to attendance: headcounts and pseudonymous registers. Operations flush; the request or
job that calls them commits (or rolls back on an error, so nothing is half-written)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..groups.models import ReadingGroup
from ..organisations.models import Organisation
from ..sessions.errors import SessionError
from ..sessions.models import ReadingSession
from ..users.models import User
from .limits import HEADCOUNT, PARTICIPANT_CODE, PARTICIPANT_NAME, PARTICIPANT_NOTE
from .models import Attendance, Participant, ParticipantAttendance

# A code is pseudonymous: letters, digits and a few separators, never a name with spaces.
CODE_PATTERN = re.compile(rf"[A-Z0-9][A-Z0-9._/-]{{0,{PARTICIPANT_CODE - 1}}}")
CODE_SEPARATORS = re.compile(r"[\s,;]+")
MAX_REGISTER = 500
HEADCOUNT_FIELDS = ("participants", "first_time", "staff_carers", "volunteers")

# Domains built on attendance (referrals) register here what follows from a changed register,
# so attendance never imports them. Each is called, in the same transaction, with the ids of the
# people whose attendance changed, after their first-time flags are recomputed.
REGISTER_CHANGED: list[Callable[[set[int]], None]] = []


def _register_changed(participant_ids: set[int]) -> None:
    for follow in REGISTER_CHANGED:
        follow(participant_ids)


@dataclass(frozen=True)
class Headcounts:
    participants: int = 0
    first_time: int = 0
    staff_carers: int = 0
    volunteers: int = 0


@dataclass(frozen=True)
class RegisterInput:
    """Who was there: ``codes`` must already exist in the host organisation, ``new_codes`` must
    not (they are created). Keeping them apart stops a mistyped code becoming a new person."""

    codes: tuple[str, ...] = ()
    new_codes: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len({str(c).strip().upper() for c in (*self.codes, *self.new_codes)})


def normalise_code(raw: str, field: str = "register_codes") -> str:
    """A code as stored: trimmed and upper-cased. Raises SessionError when it is not a code."""
    code = str(raw).strip().upper()
    if not CODE_PATTERN.fullmatch(code):
        shown = code if len(code) <= PARTICIPANT_CODE else code[:PARTICIPANT_CODE] + "…"
        raise SessionError(
            f"“{shown}” is not a valid code: use up to {PARTICIPANT_CODE} letters, digits, "
            "dots, dashes, slashes or underscores.",
            field,
        )
    return code


def parse_codes(text: str | None, field: str = "register_codes") -> tuple[str, ...]:
    """Codes from free text (one per line, or separated by commas, semicolons or spaces).

    Upper-cased and de-duplicated in order. Raises SessionError naming the first bad code.
    """
    codes: list[str] = []
    for raw in CODE_SEPARATORS.split(text or ""):
        if not raw:
            continue
        code = normalise_code(raw, field)
        if code not in codes:
            codes.append(code)
    if len(codes) > MAX_REGISTER:
        raise SessionError(f"A register can hold at most {MAX_REGISTER} codes.", field)
    return tuple(codes)


def host_organisation_id(group: ReadingGroup) -> int:
    """Participant codes belong to the organisation of the group's venue."""
    return group.venue.organisation_id


def validate_headcounts(counts: Headcounts) -> None:
    for name in HEADCOUNT_FIELDS:
        value = getattr(counts, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise SessionError("Enter a whole number.", name)
        if value < HEADCOUNT.min:
            raise SessionError(f"Enter {HEADCOUNT.min} or more.", name)
        if value > HEADCOUNT.max:
            raise SessionError(f"Enter at most {HEADCOUNT.max}.", name)
    if counts.first_time > counts.participants:
        raise SessionError(
            "First-time participants cannot be more than the participants.", "first_time"
        )


def resolve_register(group: ReadingGroup, register: RegisterInput) -> list[Participant]:
    """The participants for a register, creating the new codes in the host organisation."""
    if not register.codes and not register.new_codes:
        return []  # an empty register (the log form's usual one) needs no look-up
    org_id = host_organisation_id(group)
    wanted = list(dict.fromkeys(normalise_code(c) for c in register.codes))
    new = list(dict.fromkeys(normalise_code(c, "new_codes") for c in register.new_codes))
    new = [c for c in new if c not in wanted]
    if len(wanted) + len(new) > MAX_REGISTER:
        raise SessionError(f"A register can hold at most {MAX_REGISTER} codes.", "register_codes")
    lookup = {c for c in wanted + new}
    found: dict[str, Participant] = {}
    if lookup:
        rows = db.session.scalars(
            sa.select(Participant).where(
                Participant.organisation_id == org_id,
                sa.func.upper(Participant.code).in_(lookup),
            )
        ).all()
        found = {p.code.upper(): p for p in rows}
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise SessionError(
            "Unknown participant code: "
            + ", ".join(unknown[:10])
            + ". Check it, or add a new person under “New codes”.",
            "register_codes",
        )
    existing_new = [c for c in new if c in found]
    if existing_new:
        raise SessionError(
            "Already registered, list it under “Present” instead: " + ", ".join(existing_new[:10]),
            "new_codes",
        )
    people = [found[c] for c in wanted]
    for code in new:
        person = Participant(organisation_id=org_id, code=code)
        db.session.add(person)
        people.append(person)
    db.session.flush()
    return people


def recompute_first_time(participant_ids: Iterable[int]) -> None:
    """A register entry is someone's first time when they have no earlier attendance."""
    ids = sorted(set(participant_ids))
    if not ids:
        return
    rows = db.session.execute(
        sa.select(ParticipantAttendance, ReadingSession.start_dt)
        .join(ReadingSession, ReadingSession.id == ParticipantAttendance.session_id)
        .where(ParticipantAttendance.participant_id.in_(ids))
        .order_by(
            ParticipantAttendance.participant_id,
            ReadingSession.start_dt,
            ReadingSession.id,
        )
    ).all()
    seen: set[int] = set()
    for record, _start in rows:
        first = record.participant_id not in seen
        seen.add(record.participant_id)
        if record.first_time != first:
            record.first_time = first
    db.session.flush()


def record_attendance(
    session: ReadingSession,
    counts: Headcounts,
    register: RegisterInput | None,
    *,
    actor: User | None,
) -> Attendance:
    """Set a delivered session's headcounts and, when ``register`` is given, its register.

    ``register=None`` leaves an existing register alone (headcount-only updates); an empty
    RegisterInput removes it. The participants count must cover everyone in the register, and
    the first-time count everyone in it who had never attended before.
    """
    validate_headcounts(counts)
    if register is not None and register.size > counts.participants:
        raise SessionError(
            f"The register lists {register.size} people: participants must be at least that.",
            "participants",
        )
    attendance = session.attendance
    if attendance is None:
        attendance = Attendance(session_id=session.id)
        db.session.add(attendance)
        session.attendance = attendance
    for name in HEADCOUNT_FIELDS:
        setattr(attendance, name, getattr(counts, name))
    if actor is not None:
        attendance.logged_by_id = actor.id
    if register is not None:
        _set_register(session, resolve_register(session.group, register))
        first_timers = register.size and db.session.scalar(
            sa.select(sa.func.count()).where(
                ParticipantAttendance.session_id == session.id,
                ParticipantAttendance.first_time.is_(True),
            )
        )
        if first_timers and first_timers > counts.first_time:
            raise SessionError(
                f"{first_timers} people in the register are here for the first time: "
                "the first-time count must be at least that.",
                "first_time",
            )
    return attendance


def _set_register(session: ReadingSession, people: list[Participant]) -> None:
    # Read without flushing: when the register stays as it was (most logs, and every
    # headcount-only one), the headcounts wait for the caller's flush, with one UPDATE round and
    # one audit INSERT fewer.
    with db.session.no_autoflush:
        current = set(
            db.session.scalars(
                sa.select(ParticipantAttendance.participant_id).where(
                    ParticipantAttendance.session_id == session.id
                )
            )
        )
    wanted = {p.id for p in people}
    if wanted == current:
        return
    db.session.flush()  # the attendance row first: the register's rows refer to it
    gone = current - wanted
    if gone:
        db.session.execute(
            sa.delete(ParticipantAttendance).where(
                ParticipantAttendance.session_id == session.id,
                ParticipantAttendance.participant_id.in_(gone),
            )
        )
    for pid in sorted(wanted - current):
        db.session.add(ParticipantAttendance(session_id=session.id, participant_id=pid))
    db.session.flush()
    recompute_first_time(current | wanted)
    _register_changed(current ^ wanted)


def clear_attendance(session: ReadingSession) -> None:
    """Remove a session's headcounts and register (it was cancelled after all)."""
    ids = list(
        db.session.scalars(
            sa.select(ParticipantAttendance.participant_id).where(
                ParticipantAttendance.session_id == session.id
            )
        )
    )
    if ids:
        db.session.execute(
            sa.delete(ParticipantAttendance).where(ParticipantAttendance.session_id == session.id)
        )
    if session.attendance is not None:
        db.session.delete(session.attendance)
        session.attendance = None
    db.session.flush()
    recompute_first_time(ids)
    _register_changed(set(ids))


def register_codes(session: ReadingSession) -> list[tuple[str, bool]]:
    """(code, first_time) for a session's register, by code. Participant-level data: callers
    must check ``sees_participants`` first."""
    rows = db.session.execute(
        sa.select(Participant.code, ParticipantAttendance.first_time)
        .join(Participant, Participant.id == ParticipantAttendance.participant_id)
        .where(ParticipantAttendance.session_id == session.id)
        .order_by(Participant.code)
    ).all()
    return [(code, bool(first)) for code, first in rows]


# --- Names and notes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NameAndNote:
    """A participant's first name and short note as asked: None leaves a field as it is, an
    empty text removes it. Personal data: never put it in a message, a log line or the audit."""

    display_name: str | None = None
    notes: str | None = None


def _personal_text(value: str | None, limit: int, field: str, label: str) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split()) if field == "display_name" else str(value).strip()
    if len(text) > limit:
        raise SessionError(f"Keep the {label} to {limit} characters or fewer.", field)
    return text


def names_refused(organisation: Organisation) -> str:
    """Why a name or note cannot be kept for ``organisation``'s participants."""
    return (
        f"{organisation.name} keeps participants as codes only: names and notes are switched "
        "off for its participants."
    )


def record_name_and_note(participant: Participant, wanted: NameAndNote) -> Participant:
    """Record or correct a participant's first name and note (the caller checked who may, with
    ``access.may_record_participant_name``).

    Refused where the participant's organisation keeps codes only, and for an erased person;
    removing what is held is always allowed. The audit trail records that the fields changed,
    never their values (``display_name`` and ``notes`` are personal fields there).
    """
    name = _personal_text(wanted.display_name, PARTICIPANT_NAME, "display_name", "name")
    note = _personal_text(wanted.notes, PARTICIPANT_NOTE, "notes", "note")
    if name or note:
        field = "display_name" if name else "notes"
        if participant.erased_at is not None:
            raise SessionError("This person's data was erased: nothing can be added.", field)
        if not participant.organisation.keep_names:
            raise SessionError(names_refused(participant.organisation), field)
    if name is not None:
        participant.display_name = name or None
    if note is not None:
        participant.notes = note or None
    db.session.flush()
    return participant


def name_participants(group: ReadingGroup, names: dict[str, str]) -> None:
    """First names for people on a register by code (the paper-register import's ``names``
    column), in the group's host organisation. Unknown codes are refused."""
    if not names:
        return
    org_id = host_organisation_id(group)
    people = {
        p.code.upper(): p
        for p in db.session.scalars(
            sa.select(Participant).where(
                Participant.organisation_id == org_id,
                sa.func.upper(Participant.code).in_(list(names)),
            )
        )
    }
    unknown = [code for code in names if code not in people]
    if unknown:
        raise SessionError(
            "Unknown participant code for a name: " + ", ".join(unknown[:10]), "names"
        )
    for code, name in names.items():
        try:
            record_name_and_note(people[code], NameAndNote(display_name=name))
        except SessionError as error:
            raise SessionError(error.message, "names") from None
