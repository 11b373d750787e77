"""Every domain's models, imported once so SQLAlchemy and Alembic see the whole schema."""

from .attendance.models import Attendance, Participant, ParticipantAttendance
from .audit.models import AuditEvent
from .exports.models import ReportNarrative, ReportPreset, ReportQuote
from .feeds.models import FeedToken
from .groups.models import GroupExcludedDate, ReadingGroup, group_coleader
from .logbook.models import LogReceipt
from .notifications.models import OutboxMessage, SchedulerHeartbeat
from .organisations.models import Organisation, Partnership, Venue
from .outcomes.models import (
    AnswerSet,
    ConsentRecord,
    EpisodeVoice,
    GroupMeasure,
    HandOver,
    Measure,
    MeasureVersion,
)
from .radio.models import Broadcast, Episode, Programme, episode_material
from .referrals.models import Referral, ReferralStep
from .safeguarding.models import Concern
from .sessions.models import ReadingMaterial, ReadingSession, session_material
from .users.models import ApiToken, Invitation, PasswordReset, User
from .workforce.models import (
    CheckRecord,
    GroupHoursSetting,
    LeaderRecord,
    RenewalReminder,
    SessionHoursAdjustment,
    TrainingRecord,
)

__all__ = [
    "AnswerSet",
    "ApiToken",
    "Attendance",
    "AuditEvent",
    "Broadcast",
    "CheckRecord",
    "Concern",
    "ConsentRecord",
    "Episode",
    "EpisodeVoice",
    "FeedToken",
    "GroupExcludedDate",
    "GroupHoursSetting",
    "GroupMeasure",
    "HandOver",
    "Invitation",
    "LeaderRecord",
    "LogReceipt",
    "Measure",
    "MeasureVersion",
    "Organisation",
    "OutboxMessage",
    "Participant",
    "ParticipantAttendance",
    "Partnership",
    "PasswordReset",
    "Programme",
    "ReadingGroup",
    "ReadingMaterial",
    "ReadingSession",
    "Referral",
    "ReferralStep",
    "RenewalReminder",
    "ReportNarrative",
    "ReportPreset",
    "ReportQuote",
    "SchedulerHeartbeat",
    "SessionHoursAdjustment",
    "TrainingRecord",
    "User",
    "Venue",
    "episode_material",
    "group_coleader",
    "session_material",
]
