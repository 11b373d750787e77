"""Outcome measures and their versions. A version's definition never changes once loaded, so
answers given to it keep the wording and scoring they were given under."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, enum_check
from ..extensions import db
from ..timeutil import utcnow


class Measure(db.Model):
    """A questionnaire, by its stable key ("ons4"); its wording lives in its versions."""

    __tablename__ = "measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))  # the latest version's name
    builtin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    versions: Mapped[list[MeasureVersion]] = relationship(
        back_populates="measure", order_by="MeasureVersion.loaded_at"
    )

    def __repr__(self) -> str:
        return f"<Measure {self.id} {self.key!r}>"


class MeasureVersion(db.Model):
    """One loaded definition of a measure, exactly as its file gave it."""

    __tablename__ = "measure_version"
    __table_args__ = (sa.UniqueConstraint("measure_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(
        sa.ForeignKey("measure.id", ondelete="RESTRICT"), index=True
    )
    version: Mapped[str] = mapped_column(sa.String(40))
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    checksum: Mapped[str] = mapped_column(sa.String(64))  # sha256 of the definition
    source: Mapped[str] = mapped_column(sa.String(255))  # the file it was loaded from
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    measure: Mapped[Measure] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"<MeasureVersion {self.id} measure={self.measure_id} {self.version!r}>"


# What a participant may consent to, each on its own (readerapp/outcomes/consent.py words them).
CONSENT_PURPOSES = (
    "evaluation",
    "quotes",
    "radio_voice",
    "referrer_updates",
    "referrer_name",
)
# How an answer set was collected: reading items aloud tends to raise answers, so reports say.
ADMINISTRATION_MODES = ("self_paper", "self_phone", "read_aloud")


class ConsentRecord(db.Model):
    """One entry in a participant's consent ledger: given or withdrawn, for one purpose, with
    the version of the wording they were shown. Entries are only ever added; the latest entry
    for a purpose is the person's current answer."""

    __tablename__ = "consent_record"
    __table_args__ = (
        enum_check("purpose", CONSENT_PURPOSES, "purpose"),
        sa.Index("ix_consent_record_participant_purpose", "participant_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="RESTRICT")
    )
    purpose: Mapped[str] = mapped_column(sa.String(20))
    given: Mapped[bool]
    wording_version: Mapped[str] = mapped_column(sa.String(40))
    on_date: Mapped[date]  # the local date the person gave or withdrew it
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )

    def __repr__(self) -> str:
        state = "given" if self.given else "withdrawn"
        return f"<ConsentRecord {self.id} participant={self.participant_id} {self.purpose} {state}>"


class AnswerSet(db.Model):
    """One person's answers to one version of a measure on one day (or, anonymous, one answer
    set from a session's feedback). Health data: who sees it is decided in readerapp.access."""

    __tablename__ = "answer_set"
    __table_args__ = (
        enum_check("mode", ADMINISTRATION_MODES, "mode"),
        # Anonymous feedback still belongs to a session; a person's answers to a group.
        sa.CheckConstraint(
            "participant_id IS NOT NULL OR session_id IS NOT NULL", name="someone_or_a_session"
        ),
        sa.Index("ix_answer_set_participant_measure", "participant_id", "measure_version_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("measure_version.id", ondelete="RESTRICT"), index=True
    )
    participant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="RESTRICT")
    )
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reading_group.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reading_session.id", ondelete="SET NULL"), index=True
    )
    answered_on: Mapped[date]  # local date
    mode: Mapped[str] = mapped_column(sa.String(20))
    answers: Mapped[dict[str, int]] = mapped_column(sa.JSON)  # item key -> the value chosen
    complete: Mapped[bool]  # every item answered
    entered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    measure_version: Mapped[MeasureVersion] = relationship()

    def __repr__(self) -> str:
        return (
            f"<AnswerSet {self.id} version={self.measure_version_id} "
            f"participant={self.participant_id} {self.answered_on}>"
        )


class GroupMeasure(db.Model):
    """When a group asks a measure: at a person's first session, then every N sessions or N
    weeks since their last answers, and at leaving (the group's last session)."""

    __tablename__ = "group_measure"
    __table_args__ = (
        sa.UniqueConstraint("group_id", "measure_id"),
        sa.CheckConstraint(
            "every_sessions IS NULL OR every_sessions > 0", name="every_sessions_positive"
        ),
        sa.CheckConstraint("every_weeks IS NULL OR every_weeks > 0", name="every_weeks_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reading_group.id", ondelete="CASCADE"), index=True
    )
    measure_id: Mapped[int] = mapped_column(sa.ForeignKey("measure.id", ondelete="RESTRICT"))
    at_first: Mapped[bool] = mapped_column(default=True)
    every_sessions: Mapped[int | None]
    every_weeks: Mapped[int | None]
    at_leaving: Mapped[bool] = mapped_column(default=True)

    measure: Mapped[Measure] = relationship()

    def __repr__(self) -> str:
        return f"<GroupMeasure group={self.group_id} measure={self.measure_id}>"


class HandOver(db.Model):
    """Answers in progress on a leader's phone handed to a participant (self_completion.py).

    Kept here rather than in the browser's session cookie, which is signed but readable: the
    cookie holds only a random token, and the row is keyed by that token's sha256, so the id
    in the database does not open the screens either. A row goes when the set is saved or
    stopped, on the participant's erasure, and once expired (30 minutes after the last tap),
    when a new hand-over starts and in the daily retention run."""

    __tablename__ = "hand_over"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # sha256 hex of the token
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("reading_session.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    measure_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("measure_version.id", ondelete="CASCADE")
    )
    leader_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    answers: Mapped[dict[str, int]] = mapped_column(sa.JSON)  # item key -> the value chosen
    position: Mapped[int]  # the index of the question on screen; len(items) at the end
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the last tap
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:
        # No answers and no id: the token's hash is no secret, but neither is it needed here.
        return f"<HandOver session={self.session_id} position={self.position}>"


class EpisodeVoice(db.Model):
    """A participant whose voice is heard in a recorded radio episode: listed only with their
    consent to their voice in a radio recording, and flagged to staff once they withdraw it."""

    __tablename__ = "episode_voice"

    episode_id: Mapped[int] = mapped_column(
        sa.ForeignKey("episode.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    listed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    listed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )

    participant = relationship("Participant")

    def __repr__(self) -> str:
        return f"<EpisodeVoice episode={self.episode_id} participant={self.participant_id}>"
