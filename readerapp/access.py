"""Who may see and change what: the only place that decides it. Views and API resources load
a row, ask one of these, and call operations; they never compare roles themselves.

Role groups are named once here (the roles themselves are ``readerapp.users.models.Role``):

- admin, manager (``STAFF``): everything; admins alone manage users, read the audit trail and
  the outbox, and erase participants;
- reader_leader: the groups they lead or co-lead (and those groups' sessions, attendance and
  participants, with those people's consent and answers to outcome measures), their own
  calendar feed, and the radio stations' schedules, read-only;
- partner_viewer: groups partnered with their organisation, read-only, headcounts only, for as
  long as the partnership lasts (one that has ended no longer shows the group, its sessions or
  its feed; the partner's reports and exports still cover the partnership's dates), and their
  own station's schedule when their organisation is a radio station. A partner makes, rotates
  and revokes its own addresses of its organisation's feed (and its station's feed) on its
  Calendar page; the addresses staff made or sent stay staff's to manage.
  Counts of people reach them protected (``sees_small_numbers``).

A capability, not a role: a manager or admin an admin has made a designated safeguarding lead
(``User.safeguarding_lead``) reads and manages safeguarding concerns, which nobody else reads —
see "Safeguarding concerns" below.

Radio. A station's broadcast grid (its week, its as-run list, its programmes and episodes) holds
no personal data: it says what goes on air and when, which the station announces anyway. Reader
leaders record the sessions that become episodes and tell their groups when they air, so every
reader leader may read every station's grid — read-only, on the web and in the API alike. Only
staff change the schedule or the library. A partner sees only its own station's grid: another
station's plans are that station's business, not a partner's.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from .disclosure import Disclosure
from .groups.models import ReadingGroup, group_coleader
from .organisations.models import Organisation, Partnership, Venue
from .timeutil import to_local, utcnow
from .users.models import Role, User

if TYPE_CHECKING:
    from .feeds.models import FeedToken

F = TypeVar("F", bound=Callable[..., Any])

# --- Role groups ---------------------------------------------------------------------------------

ADMINS: frozenset[str] = frozenset({Role.ADMIN})
STAFF: frozenset[str] = frozenset({Role.ADMIN, Role.MANAGER})
LEADERS: frozenset[str] = frozenset({Role.READER_LEADER})
PARTNERS: frozenset[str] = frozenset({Role.PARTNER_VIEWER})
EVERYONE: frozenset[str] = frozenset(Role)
# Who may lead a group or a session, and so sees participants and registers.
MAY_LEAD: frozenset[str] = STAFF | LEADERS
# Who may open the exports and partnership reports (partners for their own organisation).
EXPORTERS: frozenset[str] = STAFF | PARTNERS
# Who may open the calendar-feed pages (leaders for their own feed only).
FEED_MANAGERS: frozenset[str] = STAFF | LEADERS
# Who subscribes to its own organisation's feed on the Calendar page.
SELF_SUBSCRIBERS: frozenset[str] = PARTNERS
# Who may open the radio pages (what each sees there: ``visible_station_ids``).
RADIO_READERS: frozenset[str] = EVERYONE
# Who may ask to see a participant's name (each one still decided by can_see_participant_name).
NAME_READERS: frozenset[str] = ADMINS | LEADERS
# Who may read outcome measures' wording: those who ask the questions. A licensed scale may not
# be passed on, so partners see outcome figures (in reports) and never the questionnaires.
MEASURE_READERS: frozenset[str] = MAY_LEAD
# Who may enter and read outcome answers (health data): staff for every group, a reader leader
# for the groups they lead. Partners get outcome figures only in aggregate, in the report.
ANSWER_READERS: frozenset[str] = MAY_LEAD
# Whose phone keeps pages (their sessions, log forms and registers' codes) for use with no
# signal, and queues logs: reader leaders only. Staff and partners reach many groups' data,
# which no device should keep.
OFFLINE_KEEPERS: frozenset[str] = LEADERS
# Who finds "API tokens" in the menu. Everyone may hold tokens, from their account page; reader
# leaders, who use the site on their phones and rarely the API, keep a shorter menu.
API_TOKENS_IN_MENU: frozenset[str] = STAFF | PARTNERS
# Who may invite people, and whom: admins any role; managers the reader leaders and the partner
# viewers of the organisations they see (which for staff is every one).
INVITERS: frozenset[str] = STAFF
INVITED_BY_MANAGERS: frozenset[str] = LEADERS | PARTNERS


def has_role(user: Any, roles: Collection[str]) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role in roles


def is_admin(user: Any) -> bool:
    return has_role(user, ADMINS)


def is_staff(user: Any) -> bool:
    return has_role(user, STAFF)


def is_leader(user: Any) -> bool:
    return has_role(user, LEADERS)


def is_partner(user: Any) -> bool:
    return has_role(user, PARTNERS)


def own_organisation_id(user: Any) -> int | None:
    """A partner's own organisation (its partnership summary and feeds); None for others."""
    return user.organisation_id if is_partner(user) else None


def own_station_id(user: Any) -> int | None:
    """The station a partner belongs to (its organisation, when that is a radio station)."""
    organisation_id = own_organisation_id(user)
    if organisation_id is None:
        return None
    from .extensions import db

    organisation = db.session.get(Organisation, organisation_id)
    return organisation.id if organisation is not None and organisation.is_station else None


def may_keep_pages_offline(user: Any) -> bool:
    """May the device keep this user's pages for use offline (when the installation allows it:
    the OFFLINE_MODE setting)."""
    return has_role(user, OFFLINE_KEEPERS) and bool(getattr(user, "active", False))


def may_lead(user: Any) -> bool:
    """May lead a group or a session (and be chosen as its leader)."""
    return has_role(user, MAY_LEAD)


# --- Decorators for web views --------------------------------------------------------------------


def roles_required(roles: Collection[str]) -> Callable[[F], F]:
    """Signed in, and one of ``roles`` (403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def managers_only(view: F) -> F:
    return roles_required(STAFF)(view)


def admins_only(view: F) -> F:
    return roles_required(ADMINS)(view)


def roles_user_may_invite(user: Any) -> frozenset[str]:
    if has_role(user, ADMINS):
        return EVERYONE
    if has_role(user, INVITERS):
        return INVITED_BY_MANAGERS
    return frozenset()


def may_invite(user: Any, role: str, organisation_id: int | None) -> bool:
    if role not in roles_user_may_invite(user):
        return False
    return organisation_id is None or _admits(visible_organisation_ids(user), organisation_id)


def require(condition: bool) -> None:
    if not condition:
        abort(403)


# --- Groups, sessions, partnerships --------------------------------------------------------------


def visible_group_ids(user: User) -> sa.Select | None:
    """A SELECT of the ids of groups ``user`` may see, or None for every group."""
    if is_staff(user):
        return None
    if is_leader(user):
        coled = sa.select(group_coleader.c.group_id).where(group_coleader.c.user_id == user.id)
        return sa.select(ReadingGroup.id).where(
            sa.or_(ReadingGroup.lead_leader_id == user.id, ReadingGroup.id.in_(coled))
        )
    if is_partner(user) and user.organisation_id is not None:
        return partnered_group_ids(user.organisation_id)
    return sa.select(ReadingGroup.id).where(sa.false())


def partnership_lasts(today: date | sa.BindParameter | None = None) -> sa.ColumnElement[bool]:
    """The partnership has not ended by ``today`` (a date or a bound parameter; the service's
    local date when left out). It may start later: a partner prepares for a group.

    The only statement of this rule: every other check goes through ``partnered_group_ids``."""
    today = local_today() if today is None else today
    return sa.or_(Partnership.end_date.is_(None), Partnership.end_date >= today)


def partnered_group_ids(
    organisation_id: Any, today: date | sa.BindParameter | None = None
) -> sa.Select:
    """The groups an organisation partners, in a partnership that has not ended."""
    return sa.select(Partnership.group_id).where(
        Partnership.organisation_id == organisation_id, partnership_lasts(today)
    )


def local_today() -> date:
    return to_local(utcnow()).date()


def restrict_to_visible_groups(query: sa.Select, group_id_column: Any, user: User) -> sa.Select:
    ids = visible_group_ids(user)
    return query if ids is None else query.where(group_id_column.in_(ids))


def _admits(ids: sa.Select | None, value: Any) -> bool:
    """``ids`` (None: everything) holds ``value``."""
    if ids is None:
        return True
    from .extensions import db

    return db.session.scalar(sa.select(sa.literal(value).in_(ids))) is True


def can_view_group(user: User, group: ReadingGroup) -> bool:
    if is_staff(user):
        return True
    if is_leader(user):
        return group.is_led_by(user)
    if is_partner(user):
        return _admits(visible_group_ids(user), group.id)
    return False


def can_edit_group_sessions(user: User, group: ReadingGroup) -> bool:
    """Log and edit sessions: managers, admins and the group's own leaders."""
    return is_staff(user) or (is_leader(user) and group.is_led_by(user))


def can_manage_groups(user: User) -> bool:
    """Create groups and change their patterns and partnerships."""
    return is_staff(user)


def sees_participants(user: User) -> bool:
    """Participant-level data (codes, registers) is never shown to partners."""
    return may_lead(user)


def sees_reading_plans(user: User) -> bool:
    """Notes for whoever plans the next reading ("this group has already read …"): those who
    lead or arrange sessions. A partner reads what happened, not advice meant for the leader."""
    return may_lead(user)


def may_hand_phone_over(user: User, group: ReadingGroup) -> bool:
    """Hand one's phone to a participant at a session of ``group`` to answer a measure's
    questions: the people who log its sessions, as they collect its answers on paper too."""
    return can_edit_group_sessions(user, group)


# --- Organisations, venues, materials ------------------------------------------------------------


def visible_organisation_ids(user: User) -> sa.Select | None:
    """Staff see every organisation; others their own and those around the groups they see."""
    groups = visible_group_ids(user)
    if groups is None:
        return None
    partners = sa.select(Partnership.organisation_id).where(Partnership.group_id.in_(groups))
    hosts = (
        sa.select(Venue.organisation_id)
        .join(ReadingGroup, ReadingGroup.venue_id == Venue.id)
        .where(ReadingGroup.id.in_(groups))
    )
    selects: list[sa.Select] = [partners, hosts]
    if user.organisation_id is not None:
        selects.append(sa.select(sa.literal(user.organisation_id)))
    return sa.select(sa.union(*selects).subquery().c[0])


def visible_venue_ids(user: User) -> sa.Select | None:
    groups = visible_group_ids(user)
    if groups is None:
        return None
    return sa.select(ReadingGroup.venue_id).where(ReadingGroup.id.in_(groups))


def may_view_organisation(user: User, organisation: Organisation) -> bool:
    return has_role(user, EVERYONE) and _admits(visible_organisation_ids(user), organisation.id)


def may_view_venue(user: User, venue: Venue) -> bool:
    return has_role(user, EVERYONE) and _admits(visible_venue_ids(user), venue.id)


def sees_location_detail(user: User, organisation: Organisation) -> bool:
    """A venue's ward, wing or unit: partners see it only where its organisation shares it."""
    return sees_participants(user) or organisation.share_location_detail


def sees_every_location_detail(user: User) -> bool:
    """``sees_location_detail`` for every organisation, whatever it shares (exports' rooms)."""
    return sees_participants(user)


def can_manage_organisations(user: User) -> bool:
    """Create and change organisations and their venues."""
    return is_staff(user)


def may_add_material(user: User) -> bool:
    """Add a text to the catalogue: anyone who leads sessions."""
    return may_lead(user)


def may_correct_materials(user: User) -> bool:
    """Change a text already in the catalogue, which every session that used it shares."""
    return is_staff(user)


# --- Radio ---------------------------------------------------------------------------------------


def visible_station_ids(user: User) -> sa.Select | None:
    """The stations whose grid ``user`` may read (None: every one). See the module docstring."""
    if has_role(user, STAFF | LEADERS):
        return None
    own = user.organisation_id if is_partner(user) and user.organisation_id else -1
    return sa.select(sa.literal(own))


def may_view_station(user: User, station: Organisation) -> bool:
    return has_role(user, RADIO_READERS) and _admits(visible_station_ids(user), station.id)


def may_change_radio(user: User) -> bool:
    """Schedule, move and cancel broadcasts; add and change programmes and episodes."""
    return is_staff(user)


def may_list_episode_voices(user: User) -> bool:
    """List the participant codes whose voices an episode holds, and see which of them withdrew
    their consent: managers and admins (codes never reach a station or a partner)."""
    return is_staff(user)


# --- Calendar feeds ------------------------------------------------------------------------------


def may_manage_feeds(user: User) -> bool:
    """May open the feed pages and hold feed tokens at all."""
    return has_role(user, FEED_MANAGERS)


def sees_every_feed(user: User) -> bool:
    """Staff give out feeds for any scope and manage every token."""
    return is_staff(user)


def may_create_feed(user: User, scope: str, target_id: Any) -> bool:
    """Staff: any feed. A reader leader: their own sessions' feed only."""
    from .feeds.scopes import FeedScope

    if sees_every_feed(user):
        return True
    return is_leader(user) and scope == FeedScope.LEADER and target_id == user.id


def may_manage_feed_token(user: User, token: FeedToken) -> bool:
    """See, rotate or revoke ``token``."""
    from .feeds.scopes import FeedScope

    if sees_every_feed(user):
        return True
    return is_leader(user) and token.scope == FeedScope.LEADER and token.user_id == user.id


def restrict_feed_tokens(query: sa.Select, user: User) -> sa.Select:
    """The tokens of ``query`` that ``user`` may see."""
    from .feeds.models import FeedToken
    from .feeds.scopes import FeedScope

    if sees_every_feed(user):
        return query
    if not is_leader(user):
        return query.where(sa.false())
    return query.where(FeedToken.scope == FeedScope.LEADER, FeedToken.user_id == user.id)


def partner_feed_scopes(user: User) -> list[tuple[str, Organisation]]:
    """The feeds a partner may subscribe itself to, as (scope, target): its organisation's, and
    its station's when the organisation is a radio station. Nothing for anyone else."""
    from .extensions import db
    from .feeds.scopes import FeedScope

    if not has_role(user, SELF_SUBSCRIBERS) or user.organisation_id is None:
        return []
    organisation = db.session.get(Organisation, user.organisation_id)
    if organisation is None:
        return []
    scopes = [(FeedScope.ORGANISATION.value, organisation)]
    if organisation.is_station:
        scopes.append((FeedScope.STATION.value, organisation))
    return scopes


def may_manage_own_partner_token(user: User, token: FeedToken) -> bool:
    """Rotate or revoke ``token`` on the Calendar page: a partner's own address of its own
    organisation's feed (one a colleague or staff made is theirs to manage)."""
    from .feeds.scopes import FeedScope

    return (
        has_role(user, SELF_SUBSCRIBERS)
        and user.organisation_id is not None
        and token.scope in (FeedScope.ORGANISATION, FeedScope.STATION)
        and token.organisation_id == user.organisation_id
        and token.created_by_id == user.id
    )


def own_address_lasts(token: FeedToken) -> bool:
    """A partner's own address works while the partner's account does, in that organisation:
    someone who has left stops reading the feed. Addresses staff made are tied to nobody."""
    maker = token.created_by
    # The role itself, not is_partner: that asks whether the account may sign in now.
    if maker is None or maker.role not in SELF_SUBSCRIBERS:
        return True
    return maker.active and maker.organisation_id == token.organisation_id


def may_send_feed_address(user: User) -> bool:
    """Send a new feed address to a partner contact by email: staff, who give out every feed."""
    return sees_every_feed(user)


# --- Exports and reports -------------------------------------------------------------------------


def may_export(user: User) -> bool:
    return has_role(user, EXPORTERS)


def exports_cover_everyone(user: User) -> bool:
    """Staff export every organisation's figures; a partner only its own organisation's."""
    return is_staff(user)


# --- Partnership reports: what managers write, and what only staff see ------------------------


def may_write_report_narrative(user: User) -> bool:
    """Managers and admins write a report's narrative and quotes; partners read the latest
    version in their own organisation's report, never edit it."""
    return is_staff(user)


def may_read_narrative_history(user: User) -> bool:
    """Earlier versions (who saved what, when) are staff's working record."""
    return is_staff(user)


def may_read_report_narrative(user: User, organisation_id: int) -> bool:
    """Staff read every scope's narrative; a partner only its own organisation's."""
    return is_staff(user) or own_organisation_id(user) == organisation_id


def sees_outlier_flags(user: User) -> bool:
    """Sessions far above their group's usual are a data-quality aid for staff: one session's
    headcount is a count of people a partner sees only within protected totals."""
    return is_staff(user)


def may_manage_report_presets(user: User) -> bool:
    return is_staff(user)


def may_export_answers_by_code(user: User) -> bool:
    """Outcome answers are health data: managers and admins may export every answer set by
    participant code (each export audited); partners get aggregates only, and reader leaders,
    who see their own groups' answers, export nothing."""
    return is_staff(user)


# --- Small numbers -------------------------------------------------------------------------------


def sees_small_numbers(user: User) -> bool:
    """Staff and reader leaders see real counts of people; everyone else (partners) sees them
    protected: small counts suppressed, totals rounded (readerapp/disclosure.py)."""
    return has_role(user, MAY_LEAD)


def disclosure_for(user: User, machine: bool = False) -> Disclosure:
    """How counts of people are shown to ``user`` (``machine``: in the machine column set)."""
    if sees_small_numbers(user):
        return Disclosure(machine=machine)
    from flask import current_app

    return Disclosure(current_app.config["SMALL_NUMBER_THRESHOLD"], machine)


# --- Participants (privacy) ----------------------------------------------------------------------


def may_list_participants(user: User) -> bool:
    """Open the participants pages (codes and counts; names are decided per person)."""
    return sees_participants(user)


def visible_participant_ids(user: User) -> sa.Select | None:
    """A SELECT of the ids of participants ``user`` may list (None: everyone): staff all, a
    reader leader those who attended one of their groups, partners none."""
    if is_staff(user):
        return None
    from .attendance.models import ParticipantAttendance
    from .sessions.models import ReadingSession

    if not sees_participants(user):
        return sa.select(ParticipantAttendance.participant_id).where(sa.false())
    return (
        sa.select(ParticipantAttendance.participant_id)
        .join(ReadingSession, ReadingSession.id == ParticipantAttendance.session_id)
        .where(ReadingSession.group_id.in_(visible_group_ids(user)))
    )


def may_ask_for_names(user: User) -> bool:
    """May ask to see names at all; each person is then decided by can_see_participant_name."""
    return has_role(user, NAME_READERS)


def may_erase_participants(user: User) -> bool:
    return is_admin(user)


def can_see_participant_name(user: User, participant: Any) -> bool:
    """A participant's display name and notes: admins, and the leaders of a group they attended.

    Every display of the name must also be recorded with ``readerapp.audit.record("view_name",
    "participant", participant.id)``.
    """
    if is_admin(user):
        return True
    return is_leader(user) and _attended_a_group_led_by(user, participant)


def may_see_names_on_register(user: User, group: ReadingGroup) -> bool:
    """Names beside the codes of a group's tick-list register, on request. Everyone on that list
    attended the group, so this is ``can_see_participant_name`` for each of them: admins, and
    the group's own leaders (managers record names but never see them; partners never).

    Every name shown must be recorded with ``readerapp.audit.recordmany("view_name", ...)``.
    """
    if not may_ask_for_names(user):
        return False
    return is_admin(user) or (is_leader(user) and group.is_led_by(user))


def may_record_names(user: User) -> bool:
    """May record names at all; each person is then decided by may_record_participant_name."""
    return has_role(user, MAY_LEAD)


def may_record_participant_name(user: User, participant: Any) -> bool:
    """Record or correct a participant's first name and note: managers and admins for anyone,
    a reader leader for the people of their own groups (those who attended one of them).

    Writing is not reading: a manager may set a name yet still never sees one."""
    if is_staff(user):
        return True
    return is_leader(user) and _attended_a_group_led_by(user, participant)


# --- Consent and outcome answers (special-category data) ----------------------------------------


def may_record_consent(user: User, participant: Any) -> bool:
    """Record a participant's consent given or withdrawn: managers and admins for anyone, a
    reader leader for the people of their own groups (those who attended one of them)."""
    if is_staff(user):
        return True
    return is_leader(user) and _attended_a_group_led_by(user, participant)


def may_see_answers(user: User, participant: Any) -> bool:
    """A person's stored answers to outcome measures (health data): managers and admins, and the
    leaders of a group they attended; partners never (they see aggregates in reports).

    Every display of answers must also be recorded with ``readerapp.audit.recordmany(
    "view_answers", "answer_set", ids)``."""
    if is_staff(user):
        return True
    return is_leader(user) and _attended_a_group_led_by(user, participant)


def may_record_answers(user: User, group: ReadingGroup) -> bool:
    """Enter answers from paper, or a session's anonymous feedback sheets: those who log the
    group's sessions (its own leaders, managers and admins)."""
    return can_edit_group_sessions(user, group)


def _attended_a_group_led_by(user: User, participant: Any) -> bool:
    """A participant's groups are those whose sessions they attended (there is no roster)."""
    from .attendance.models import ParticipantAttendance
    from .extensions import db
    from .sessions.models import ReadingSession

    attended_led_group = (
        sa.select(ParticipantAttendance.session_id)
        .join(ReadingSession, ReadingSession.id == ParticipantAttendance.session_id)
        .where(
            ParticipantAttendance.participant_id == participant.id,
            ReadingSession.group_id.in_(visible_group_ids(user)),
        )
        .limit(1)
    )
    return db.session.scalar(attended_led_group) is not None


# --- Outcomes: measures, consent, answers --------------------------------------------------------


def may_read_measures(user: User) -> bool:
    """Read a measure's questions, response options and scoring, word for word (a licensed
    scale's wording among them)."""
    return has_role(user, MEASURE_READERS)


def may_read_answer_sets(user: User) -> bool:
    """May read answer sets at all; which ones: ``answer_group_ids``. Partners never do."""
    return has_role(user, ANSWER_READERS)


def answer_group_ids(user: User) -> sa.Select | None:
    """A SELECT of the ids of groups whose answer sets ``user`` may read (None: every group):
    staff all, a reader leader the groups they lead, anyone else none."""
    if not may_read_answer_sets(user):
        return sa.select(ReadingGroup.id).where(sa.false())
    return visible_group_ids(user)


# --- The workforce: leaders' checks and training ---------------------------------------------
#
# Check and training records are personal data of staff: managers and admins see and change
# everyone's, a person sees their own, partners never. Leading in a regulated setting (a ward, a
# prison, a care home: the WORKFORCE_REGULATED_SETTINGS setting) needs a current enhanced DBS
# check with the barred list and the required training, on the day led. The rule lives here so
# that groups, sessions and the logbook ask it without importing the workforce package above them.

WORKFORCE_MANAGERS: frozenset[str] = STAFF


def may_manage_workforce(user: User) -> bool:
    """See every leader's record and change any of them (hours, checks, training)."""
    return has_role(user, WORKFORCE_MANAGERS)


def may_view_leader_record(user: User, person: User) -> bool:
    """A person's training and checks: staff, and the person themself; never a partner."""
    if is_partner(user) or not getattr(user, "is_authenticated", False):
        return False
    return may_manage_workforce(user) or user.id == person.id


def is_regulated_setting(setting_type: str) -> bool:
    from flask import current_app

    return setting_type in current_app.config["WORKFORCE_REGULATED_SETTINGS"]


def clearance_gaps(user_id: int, setting_type: str, on: date) -> list[str]:
    """What ``user_id`` lacks to lead in ``setting_type`` on the local day ``on``, in words a
    refusal can show ("a current enhanced DBS check with barred list"); empty when nothing is
    missing or the setting is not regulated."""
    if not is_regulated_setting(setting_type):
        return []
    return regulated_gaps(user_id, on)


def regulated_gaps(user_id: int, on: date) -> list[str]:
    """What ``user_id`` would lack on ``on`` to lead in any regulated setting."""
    from flask import current_app

    from .extensions import db
    from .workforce.models import CURRENT_CHECK_TYPES, CheckRecord, TrainingRecord

    gaps: list[str] = []
    current_check = db.session.scalar(
        sa.select(CheckRecord.id).where(
            CheckRecord.user_id == user_id,
            CheckRecord.check_type.in_(CURRENT_CHECK_TYPES),
            CheckRecord.issued_on <= on,
            CheckRecord.renewal_due >= on,
        )
    )
    if current_check is None:
        gaps.append("a current enhanced DBS check with barred list")
    trained = set(
        db.session.scalars(
            sa.select(TrainingRecord.course).where(
                TrainingRecord.user_id == user_id,
                TrainingRecord.completed_on <= on,
                sa.or_(TrainingRecord.expires_on.is_(None), TrainingRecord.expires_on >= on),
            )
        )
    )
    for course in current_app.config["WORKFORCE_REQUIRED_TRAINING"]:
        if course not in trained:
            gaps.append(f"current training: {course.replace('_', ' ')}")
    return gaps


def sees_leader_clearance(user: User, leader_id: int | None) -> bool:
    """Whether a session's "leader check lapsed" is shown to ``user``: staff, and the leader."""
    if may_manage_workforce(user):
        return True
    return is_leader(user) and leader_id is not None and user.id == leader_id


def clearance_refusal(user: User, setting_type: str, on: date) -> str | None:
    """The sentence refusing ``user`` as a leader in ``setting_type`` on ``on``, or None."""
    gaps = clearance_gaps(user.id, setting_type, on)
    if not gaps:
        return None
    setting = setting_type.replace("_", " ")
    return (
        f"{user.display_name} cannot lead in a {setting} setting on {on:%-d %B %Y}: "
        f"missing {' and '.join(gaps)}."
    )


# --- Safeguarding concerns -----------------------------------------------------------------------
#
# A concern is read by designated safeguarding leads alone: a manager or admin granted the
# capability (``User.safeguarding_lead``, which admins grant and the audit trail records).
# Nobody else reads one — not other managers, not admins without it, not partners, and not the
# leader who raised it, who sees only that it was received. Every read is audited
# (``record("view_concern", "concern", id)``).


def is_safeguarding_lead(user: Any) -> bool:
    return is_staff(user) and bool(getattr(user, "safeguarding_lead", False))


def may_read_concerns(user: Any) -> bool:
    """Read and manage (refer, close) safeguarding concerns: designated safeguarding leads."""
    return is_safeguarding_lead(user)


def may_raise_concerns(user: Any) -> bool:
    """Raise a concern at all: anyone who leads sessions; which session or person is decided by
    ``may_raise_concern_about``."""
    return has_role(user, MAY_LEAD)


def may_raise_concern_about(user: User, session: Any | None, participant: Any | None) -> bool:
    """A concern about a session of a group one logs, or a person one may record things for."""
    if not may_raise_concerns(user):
        return False
    if session is not None and not can_edit_group_sessions(user, session.group):
        return False
    return participant is None or may_record_consent(user, participant)


def may_grant_safeguarding_lead(user: Any) -> bool:
    """Grant or withdraw the safeguarding-lead capability: admins."""
    return is_admin(user)


# --- Referrals -----------------------------------------------------------------------------------
#
# A referral is participant-level data: scoped like participants (staff all; a reader leader the
# people of their groups, and the referrals they recorded themselves, which may come before the
# person's first session); never partners, who get referral figures in their reports only.


def may_handle_referrals(user: Any) -> bool:
    """Open the referrals pages and API at all: those who lead sessions."""
    return sees_participants(user)


def referral_organisation_ids(user: User) -> sa.Select | None:
    """The organisations whose codes ``user`` may refer (None: every one): staff all, a reader
    leader the host organisations of the groups they lead."""
    if is_staff(user):
        return None
    if not may_handle_referrals(user):
        return sa.select(Venue.organisation_id).where(sa.false())
    return (
        sa.select(Venue.organisation_id)
        .join(ReadingGroup, ReadingGroup.venue_id == Venue.id)
        .where(ReadingGroup.id.in_(visible_group_ids(user)))
    )


def may_refer_in(user: User, organisation_id: int) -> bool:
    return may_handle_referrals(user) and _admits(referral_organisation_ids(user), organisation_id)


def restrict_referrals(query: sa.Select, user: User) -> sa.Select:
    """The referrals of ``query`` that ``user`` may see."""
    from .referrals.models import Referral

    if is_staff(user):
        return query
    if not may_handle_referrals(user):
        return query.where(sa.false())
    return query.where(
        sa.or_(
            Referral.participant_id.in_(visible_participant_ids(user)),
            Referral.created_by_id == user.id,
        )
    )


def may_see_referral(user: User, referral: Any) -> bool:
    if is_staff(user):
        return True
    if not may_handle_referrals(user):
        return False
    return referral.created_by_id == user.id or _attended_a_group_led_by(user, referral.participant)
