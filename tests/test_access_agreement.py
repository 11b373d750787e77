"""The web and the API agree on who may see and change each resource they both expose.

One table (``DECISIONS``) says, for every resource and every role, whether that role may see it
and whether it may change it. Both expected answers derive from it:

- web: 200 when allowed, 403 or 404 when refused, the sign-in redirect for anonymous;
- API: 200 (seeing) or 412 (changing with a stale If-Match: the permission check passed and
  nothing was written) when allowed; 404 when the caller may not see it, 403 when it may see but
  not change it (or always, where the API documents 403); 401 for anonymous.

The resources are the API's items (``/api/v1/<things>/<id>``, read from the URL map): one that
has no row here fails ``test_every_api_resource_has_a_row``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

import pytest
from flask import Flask
from flask.testing import FlaskClient

from readerapp.access import local_today
from readerapp.api.tokens import create_token as create_api_token
from readerapp.extensions import db
from readerapp.feeds.operations import create_token as create_feed_token
from readerapp.models import User
from readerapp.timeutil import to_local, utcnow

from .api_helpers import ApiWorld, build_api_world
from .factories import Factory
from .world import sign_in_as

ROLES = (
    "anonymous",
    "admin",
    "manager",
    "leader",  # leads `group`
    "other_leader",  # leads `other_group` only
    "partner",  # partner_viewer of `host`, which partners `group`
    "other_partner",  # partner_viewer of `other_host`, which partners `other_group`
    "ended_partner",  # partner_viewer of an organisation whose partnership with `group` ended
)

FEED_LABEL = "Willow Readers leader calendar"
STALE = '"stale"'


class Answer(Enum):
    ALLOWED = "allowed"
    REFUSED = "refused"
    SIGN_IN = "sign in"


@dataclass
class Ctx:
    aw: ApiWorld
    ids: dict[str, int]
    headers: dict[str, dict[str, str]]
    users: dict[str, User | None]

    def fresh_feed_token(self) -> int:
        """A new feed token of `leader`'s own sessions (changing one revokes it)."""
        leader = db.session.get(User, self.ids["leader"])
        token, _ = create_feed_token("leader", leader, created_by=leader, label=FEED_LABEL)
        db.session.commit()
        return token.id


Url = Callable[[Ctx], str]


@dataclass(frozen=True)
class Resource:
    api_endpoint: str  # the API item this row is about
    api_url: Url
    web_see: Url
    # what the web page shows only to those who see the resource (for pages that list things)
    web_marker: str | None = None
    web_change: Url | None = None  # a GET form, or a POST when web_change_post
    web_change_post: bool = False
    api_change: tuple[str, Url, dict[str, object]] | None = None  # method, url, body
    api_refuses_with_403: bool = False  # documented: the whole resource answers 403 when refused


def _week_of_broadcast(c: Ctx) -> str:
    day = to_local(utcnow() + timedelta(days=2)).date()
    return f"/radio/stations/{c.ids['station']}/week?start={day.isoformat()}"


RESOURCES: dict[str, Resource] = {
    "groups": Resource(
        "api_groups.GroupItem",
        api_url=lambda c: f"/api/v1/groups/{c.ids['group']}",
        web_see=lambda c: f"/groups/{c.ids['group']}",
        web_change=lambda c: f"/groups/{c.ids['group']}/edit",
        api_change=("PATCH", lambda c: f"/api/v1/groups/{c.ids['group']}", {"capacity": 12}),
    ),
    "sessions": Resource(
        "api_sessions.SessionItem",
        api_url=lambda c: f"/api/v1/sessions/{c.ids['past_session']}",
        web_see=lambda c: f"/sessions/{c.ids['past_session']}",
        web_change=lambda c: f"/sessions/{c.ids['future_session']}/reschedule",
        api_change=(
            "PATCH",
            lambda c: f"/api/v1/sessions/{c.ids['future_session']}",
            {"start_dt": "2026-12-30T10:00:00+00:00"},
        ),
    ),
    "attendance": Resource(
        "api_sessions.SessionAttendance",
        api_url=lambda c: f"/api/v1/sessions/{c.ids['past_session']}/attendance",
        web_see=lambda c: f"/sessions/{c.ids['past_session']}",
        web_change=lambda c: f"/sessions/{c.ids['due_session']}/log",
        api_change=(
            "PUT",
            lambda c: f"/api/v1/sessions/{c.ids['due_session']}/attendance",
            {"participants": 5, "first_time": 1},
        ),
    ),
    "partnerships": Resource(
        "api_partnerships.PartnershipItem",
        api_url=lambda c: f"/api/v1/partnerships/{c.ids['partnership']}",
        web_see=lambda c: f"/groups/{c.ids['group']}",
        web_marker="Northmoor Trust",
        web_change=lambda c: f"/groups/{c.ids['group']}/partnerships/{c.ids['partnership']}/edit",
        api_change=(
            "PATCH",
            lambda c: f"/api/v1/partnerships/{c.ids['partnership']}",
            {"role": "funder"},
        ),
    ),
    "organisations": Resource(
        "api_organisations.OrganisationItem",
        api_url=lambda c: f"/api/v1/organisations/{c.ids['host']}",
        web_see=lambda c: f"/organisations/{c.ids['host']}",
        web_change=lambda c: f"/organisations/{c.ids['host']}/edit",
        api_change=(
            "PATCH",
            lambda c: f"/api/v1/organisations/{c.ids['host']}",
            {"contact_name": "Someone Else"},
        ),
    ),
    "venues": Resource(
        "api_venues.VenueItem",
        api_url=lambda c: f"/api/v1/venues/{c.ids['venue']}",
        web_see=lambda c: f"/organisations/{c.ids['host']}",
        web_marker="Northmoor Hospital",
        web_change=lambda c: f"/organisations/{c.ids['host']}/venues/{c.ids['venue']}/edit",
        api_change=("PATCH", lambda c: f"/api/v1/venues/{c.ids['venue']}", {"name": "Renamed"}),
    ),
    "materials": Resource(
        "api_materials.MaterialItem",
        api_url=lambda c: f"/api/v1/materials/{c.ids['material']}",
        web_see=lambda c: "/materials",
        web_marker="The Happy Prince",
        web_change=lambda c: f"/materials/{c.ids['material']}/edit",
        api_change=(
            "PATCH",
            lambda c: f"/api/v1/materials/{c.ids['material']}",
            {"title": "The Selfish Giant"},
        ),
    ),
    "stations": Resource(
        "api_stations.StationItem",
        api_url=lambda c: f"/api/v1/stations/{c.ids['station']}",
        web_see=lambda c: f"/radio/stations/{c.ids['station']}/week",
        # A station is an organisation: changing it is the organisations' row.
    ),
    "programmes": Resource(
        "api_programmes.ProgrammeItem",
        api_url=lambda c: f"/api/v1/programmes/{c.ids['programme']}",
        web_see=lambda c: "/radio/programmes",
        web_marker="on Wave Radio",  # the programme's heading ("Shared Reading" is everywhere)
        web_change=lambda c: f"/radio/programmes/{c.ids['programme']}/edit",
        api_change=(
            "PATCH",
            lambda c: f"/api/v1/programmes/{c.ids['programme']}",
            {"title": "Shared Reading Hour"},
        ),
    ),
    "episodes": Resource(
        "api_episodes.EpisodeItem",
        api_url=lambda c: f"/api/v1/episodes/{c.ids['episode']}",
        web_see=lambda c: "/radio/programmes",
        web_marker="Where We Begin",
        web_change=lambda c: f"/radio/episodes/{c.ids['episode']}/edit",
        api_change=(
            "PATCH",
            lambda c: f"/api/v1/episodes/{c.ids['episode']}",
            {"title": "Where We Start"},
        ),
    ),
    "broadcasts": Resource(
        "api_broadcasts.BroadcastItem",
        api_url=lambda c: f"/api/v1/broadcasts/{c.ids['broadcast']}",
        web_see=_week_of_broadcast,
        web_marker="Where We Begin",
        web_change=lambda c: f"/radio/broadcasts/{c.ids['broadcast']}/move",
        api_change=(
            "PATCH",
            lambda c: f"/api/v1/broadcasts/{c.ids['broadcast']}",
            {"air_dt": "2026-12-20T10:00:00+00:00"},
        ),
    ),
    "participants": Resource(
        "api_participants.ParticipantItem",
        api_url=lambda c: f"/api/v1/participants/{c.ids['participant']}",
        web_see=lambda c: f"/participants/{c.ids['participant']}",
        web_change=lambda c: f"/participants/{c.ids['participant']}/name",
        api_change=(
            "PATCH",
            lambda c: f"/api/v1/participants/{c.ids['participant']}",
            {"notes": "Likes poems"},
        ),
    ),
    # The ledger is read on the person's page; adding to it is a POST that writes (201), so
    # who may add is tested in tests/test_api_outcomes.py.
    "consent": Resource(
        "api_consent.ParticipantConsent",
        api_url=lambda c: f"/api/v1/participants/{c.ids['participant']}/consent",
        web_see=lambda c: f"/participants/{c.ids['participant']}",
    ),
    "feed tokens": Resource(
        "api_feed_tokens.FeedTokenItem",
        api_url=lambda c: f"/api/v1/feed-tokens/{c.ids['feed_token']}",
        web_see=lambda c: "/calendar-feeds/",
        web_marker=FEED_LABEL,
        web_change=lambda c: f"/calendar-feeds/{c.fresh_feed_token()}/revoke",
        web_change_post=True,
        api_change=("DELETE", lambda c: f"/api/v1/feed-tokens/{c.fresh_feed_token()}", {}),
        api_refuses_with_403=True,
    ),
    # Participant-level data, scoped like participants; documented as 403 when refused.
    "referrals": Resource(
        "api_referrals.ReferralItem",
        api_url=lambda c: f"/api/v1/referrals/{c.ids['referral']}",
        web_see=lambda c: f"/referrals/{c.ids['referral']}",
        api_change=(
            "PATCH",
            lambda c: f"/api/v1/referrals/{c.ids['referral']}",
            {"status": "ended", "reason": "Moved away"},
        ),
        api_refuses_with_403=True,
    ),
    # The codes heard in an episode: managers and admins; everyone else is refused alike (403).
    # Who may change the list is tested in tests/test_outcomes_quotes_and_voices.py.
    "episode voices": Resource(
        "api_episodes.EpisodeVoices",
        api_url=lambda c: f"/api/v1/episodes/{c.ids['episode']}/voices",
        web_see=lambda c: f"/radio/episodes/{c.ids['episode']}/voices",
        api_refuses_with_403=True,
    ),
    # A leader's record, checks and training: staff, and the person themself.
    "leader records": Resource(
        "api_workforce.LeaderItem",
        api_url=lambda c: f"/api/v1/leaders/{c.ids['leader']}",
        web_see=lambda c: f"/workforce/people/{c.ids['leader']}",
        api_refuses_with_403=True,
    ),
    # The hours a leader is counted for a session they led: managers and admins adjust them.
    "session hours": Resource(
        "api_workforce.SessionHours",
        api_url=lambda c: f"/api/v1/sessions/{c.ids['past_session']}/hours/{c.ids['leader']}",
        web_see=lambda c: f"/workforce/sessions/{c.ids['past_session']}/hours",
        api_refuses_with_403=True,
    ),
    # Read by designated safeguarding leads alone (none of this table's roles is one: what a
    # lead gets is in tests/test_safeguarding.py).
    "concerns": Resource(
        "api_concerns.ConcernItem",
        api_url=lambda c: f"/api/v1/concerns/{c.ids['concern']}",
        web_see=lambda c: f"/safeguarding/concerns/{c.ids['concern']}",
        api_change=(
            "PATCH",
            lambda c: f"/api/v1/concerns/{c.ids['concern']}",
            {"status": "closed", "outcome": "Resolved"},
        ),
        api_refuses_with_403=True,
    ),
}

# (may see, may change) for each resource and role; roles left out may do neither.
NOTHING = (False, False)
READ = (True, False)
ALL = (True, True)
STAFF = {"admin": ALL, "manager": ALL}
GROUP = STAFF | {"leader": READ, "partner": READ}  # the group's people; changed by staff
SESSIONS = STAFF | {"leader": ALL, "partner": READ}  # the group's own leaders log and move them
RADIO = STAFF | {"leader": READ, "other_leader": READ}  # every station's grid; see access.py

DECISIONS: dict[str, dict[str, tuple[bool, bool]]] = {
    "groups": GROUP,
    "sessions": SESSIONS,
    "attendance": SESSIONS,
    "partnerships": GROUP,
    # Their own organisation, and those around the groups they see.
    "organisations": GROUP,
    "venues": GROUP,
    # The catalogue of texts is shared by everyone; staff correct it.
    "materials": STAFF | {r: READ for r in ROLES if r not in STAFF and r != "anonymous"},
    "stations": STAFF | {"leader": READ, "other_leader": READ},
    "programmes": RADIO,
    "episodes": RADIO,
    "broadcasts": RADIO,
    # Codes for staff and the leaders of the person's groups, who also record names.
    "participants": STAFF | {"leader": ALL},
    # The same people read and add to a person's consent ledger.
    "consent": STAFF | {"leader": ALL},
    # Staff manage every feed; a reader leader their own sessions' feed.
    "feed tokens": STAFF | {"leader": ALL},
    # Staff, and the leaders of the person's groups, who record and end referrals.
    "referrals": STAFF | {"leader": ALL},
    "episode voices": STAFF,
    "leader records": STAFF | {"leader": READ},
    "session hours": STAFF,
    # Nobody here: not admins, managers or the leader who raised it.
    "concerns": {},
}


def decision(resource: str, role: str) -> tuple[bool, bool]:
    return DECISIONS[resource].get(role, NOTHING)


def test_every_api_resource_has_a_row(app: Flask) -> None:
    items = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and "<int:" in rule.rule and "GET" in rule.methods
    }
    rows = {r.api_endpoint for r in RESOURCES.values()}
    assert items - rows == set(), "API resources without a row in RESOURCES"
    assert rows - items == set(), "rows for API resources that no longer exist"
    assert set(DECISIONS) == set(RESOURCES)
    assert all(set(d) <= set(ROLES) for d in DECISIONS.values())


@pytest.fixture
def ctx(app: Flask) -> Iterator[Ctx]:
    app.config["WTF_CSRF_ENABLED"] = False  # permission checks on POST; CSRF is tested apart
    aw = build_api_world()
    w = aw.world
    f = Factory()
    closed = f.organisation(name="Closed Library", kind="library")
    ended = f.partnership(
        closed,
        w.group,
        role="referrer",
        start_date=local_today() - timedelta(days=200),
        end_date=local_today() - timedelta(days=7),
    )
    ended_partner = f.user(
        "partner_viewer", display_name="Ena Endedpartner", organisation_id=closed.id
    )
    leader = w.leader
    feed_token, _ = create_feed_token("leader", leader, created_by=leader, label=FEED_LABEL)
    api_secret = create_api_token(ended_partner).secret
    db.session.commit()
    ids = dict(aw.ids)
    partnership = next(p for p in w.group.partnerships if p.organisation_id == w.host.id)
    ids |= {"ended": ended.id, "feed_token": feed_token.id, "partnership": partnership.id}
    ids["ended_partner"] = ended_partner.id
    headers = {role: aw.headers(role) for role in aw.tokens}
    headers["ended_partner"] = {"Authorization": f"Bearer {api_secret}"}
    headers["anonymous"] = {}
    users: dict[str, User | None] = {role: getattr(w, role) for role in aw.tokens}
    users |= {"ended_partner": ended_partner, "anonymous": None}
    db.session.commit()
    yield Ctx(aw, ids, headers, users)
    app.config["WTF_CSRF_ENABLED"] = True


def web_answer(response, marker: str | None) -> Answer:  # type: ignore[no-untyped-def]
    status = response.status_code
    if status == 302 and "/sign-in" in response.headers.get("Location", ""):
        return Answer.SIGN_IN
    if status == 302:
        return Answer.ALLOWED  # a POST that did its work and went back to its page
    if status == 200:
        shown = marker is None or marker in response.get_data(as_text=True)
        return Answer.ALLOWED if shown else Answer.REFUSED
    assert status in (403, 404), f"unexpected {status}"
    return Answer.REFUSED


def expected_web(role: str, allowed: bool) -> Answer:
    if role == "anonymous":
        return Answer.SIGN_IN
    return Answer.ALLOWED if allowed else Answer.REFUSED


def expected_api(role: str, resource: Resource, sees: bool, allowed: bool, ok: int) -> int:
    if role == "anonymous":
        return 401
    if allowed:
        return ok
    return 403 if sees or resource.api_refuses_with_403 else 404


@pytest.mark.parametrize("name", list(RESOURCES))
def test_web_and_api_follow_the_table(app: Flask, ctx: Ctx, name: str) -> None:
    resource = RESOURCES[name]
    wrong = []
    for role in ROLES:
        sees, changes = decision(name, role)
        web = app.test_client()
        sign_in_as(web, ctx.users[role])
        api: FlaskClient = app.test_client()

        got = web_answer(web.get(resource.web_see(ctx)), resource.web_marker)
        if got != expected_web(role, sees):
            wrong.append(f"{role}: web sees -> {got.value}, table says {sees}")
        answer = api.get(resource.api_url(ctx), headers=ctx.headers[role])
        want = expected_api(role, resource, sees, sees, 200)
        if answer.status_code != want:
            wrong.append(f"{role}: API sees -> {answer.status_code}, expected {want}")

        if resource.web_change is not None:
            url = resource.web_change(ctx)
            response = web.post(url) if resource.web_change_post else web.get(url)
            got = web_answer(response, None)
            if got != expected_web(role, changes):
                wrong.append(f"{role}: web changes -> {got.value}, table says {changes}")
        if resource.api_change is not None:
            method, url_of, body = resource.api_change
            ok = 204 if method == "DELETE" else 412
            answer = api.open(
                url_of(ctx),
                method=method,
                headers=ctx.headers[role] | {"If-Match": STALE},
                json=body,
            )
            want = expected_api(role, resource, sees, changes, ok)
            if answer.status_code != want:
                wrong.append(f"{role}: API changes -> {answer.status_code}, expected {want}")
    assert not wrong, f"{name}: " + "; ".join(wrong)
