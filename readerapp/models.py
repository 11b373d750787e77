"""Every domain's models, imported once so SQLAlchemy and Alembic see the whole schema."""

from .attendance.models import Attendance, Participant, ParticipantAttendance
from .audit.models import AuditEvent
from .exports.models import ReportNarrative, ReportPreset, ReportQuote
from .feeds.models import FeedToken
from .groups.models import GroupExcludedDate, ReadingGroup, group_coleader
from .notifications.models import OutboxMessage, SchedulerHeartbeat
from .organisations.models import Organisation, Partnership, Venue
from .outcomes.models import (
    AnswerSet,
    ConsentRecord,
    GroupMeasure,
    HandOver,
    Measure,
    MeasureVersion,
)
from .radio.models import Broadcast, Episode, Programme, episode_material
from .referrals.models import Referral, ReferralStep
from .safeguarding.models import Concern
from .sessions.models import ReadingMaterial, ReadingSession, session_material
from .users.models import ApiToken, User

__all__ = [
    "AnswerSet",
    "ApiToken",
    "Attendance",
    "AuditEvent",
    "Broadcast",
    "Concern",
    "ConsentRecord",
    "Episode",
    "FeedToken",
    "GroupExcludedDate",
    "GroupMeasure",
    "HandOver",
    "Measure",
    "MeasureVersion",
    "Organisation",
    "OutboxMessage",
    "Participant",
    "ParticipantAttendance",
    "Partnership",
    "Programme",
    "ReadingGroup",
    "ReadingMaterial",
    "ReadingSession",
    "Referral",
    "ReferralStep",
    "ReportNarrative",
    "ReportPreset",
    "ReportQuote",
    "SchedulerHeartbeat",
    "User",
    "Venue",
    "episode_material",
    "group_coleader",
    "session_material",
]
