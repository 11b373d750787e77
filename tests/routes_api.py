"""The API's routes for the every-route table. The table's clients sign in with the session
cookie, which the API never accepts: without a Bearer token every resource answers 401 to every
role. What each role gets with its token is tested in tests/test_api_roles.py."""

from .route_table import ROLES, Route, everyone

UNAUTHORISED = {role: 401 for role in ROLES}


def api(endpoint: str, url, method: str = "GET") -> Route:  # type: ignore[no-untyped-def]
    return Route(endpoint, url, UNAUTHORISED, default=401, method=method)


ROUTES = [
    api("api_referrals.Referrals", lambda w: "/api/v1/referrals"),
    api("api_referrals.Referrals", lambda w: "/api/v1/referrals", "POST"),
    api("api_referrals.ReferralItem", lambda w: f"/api/v1/referrals/{w.referral.id}"),
    api("api_referrals.ReferralItem", lambda w: f"/api/v1/referrals/{w.referral.id}", "PATCH"),
    api("api_concerns.Concerns", lambda w: "/api/v1/concerns"),
    api("api_concerns.Concerns", lambda w: "/api/v1/concerns", "POST"),
    api("api_concerns.ConcernItem", lambda w: f"/api/v1/concerns/{w.concern.id}"),
    api("api_concerns.ConcernItem", lambda w: f"/api/v1/concerns/{w.concern.id}", "PATCH"),
    Route("api-docs.openapi_json", lambda w: "/api/v1/openapi.json", {r: 200 for r in ROLES}),
    Route("api_reference.docs", lambda w: "/api/v1/docs", {r: 200 for r in ROLES}),
    Route("api_tokens.tokens", lambda w: "/account/api-tokens", everyone(200)),
    # A name that is too long: the table checks who may post, without writing (creating tokens
    # is tested in test_api_tokens.py).
    Route(
        "api_tokens.tokens",
        lambda w: "/account/api-tokens",
        everyone(400),
        method="POST",
        data=lambda w: {"name": "x" * 101},
    ),
    # Nobody owns token 999999: signed-in users get 404, never someone else's token.
    Route(
        "api_tokens.revoke",
        lambda w: "/account/api-tokens/999999/revoke",
        everyone(404),
        method="POST",
    ),
    api("api_organisations.Organisations", lambda w: "/api/v1/organisations"),
    api("api_organisations.Organisations", lambda w: "/api/v1/organisations", "POST"),
    api("api_organisations.OrganisationItem", lambda w: f"/api/v1/organisations/{w.host.id}"),
    api(
        "api_organisations.OrganisationItem",
        lambda w: f"/api/v1/organisations/{w.host.id}",
        "PATCH",
    ),
    api("api_venues.Venues", lambda w: "/api/v1/venues"),
    api("api_venues.Venues", lambda w: "/api/v1/venues", "POST"),
    api("api_venues.VenueItem", lambda w: f"/api/v1/venues/{w.venue.id}"),
    api("api_venues.VenueItem", lambda w: f"/api/v1/venues/{w.venue.id}", "PATCH"),
    api("api_partnerships.Partnerships", lambda w: "/api/v1/partnerships"),
    api("api_partnerships.Partnerships", lambda w: "/api/v1/partnerships", "POST"),
    api("api_partnerships.PartnershipItem", lambda w: "/api/v1/partnerships/1"),
    api("api_partnerships.PartnershipItem", lambda w: "/api/v1/partnerships/1", "PATCH"),
    api("api_partnerships.PartnershipItem", lambda w: "/api/v1/partnerships/1", "DELETE"),
    api("api_groups.Groups", lambda w: "/api/v1/groups"),
    api("api_groups.Groups", lambda w: "/api/v1/groups", "POST"),
    api("api_groups.GroupItem", lambda w: f"/api/v1/groups/{w.group.id}"),
    api("api_groups.GroupItem", lambda w: f"/api/v1/groups/{w.group.id}", "PATCH"),
    api("api_sessions.Sessions", lambda w: "/api/v1/sessions"),
    api("api_sessions.SessionCounts", lambda w: "/api/v1/sessions/counts"),
    api("api_exports.AttendanceExport", lambda w: "/api/v1/exports/attendance"),
    api("api_exports.OutcomeAnswersExport", lambda w: "/api/v1/exports/outcome-answers"),
    api("api_sessions.Sessions", lambda w: "/api/v1/sessions", "POST"),
    api("api_sessions.SessionItem", lambda w: f"/api/v1/sessions/{w.due_session.id}"),
    api("api_sessions.SessionItem", lambda w: f"/api/v1/sessions/{w.due_session.id}", "PATCH"),
    api(
        "api_sessions.SessionAttendance",
        lambda w: f"/api/v1/sessions/{w.past_session.id}/attendance",
    ),
    api(
        "api_sessions.SessionAttendance",
        lambda w: f"/api/v1/sessions/{w.past_session.id}/attendance",
        "PUT",
    ),
    api("api_materials.Materials", lambda w: "/api/v1/materials"),
    api("api_materials.Materials", lambda w: "/api/v1/materials", "POST"),
    api("api_materials.MaterialItem", lambda w: f"/api/v1/materials/{w.material.id}"),
    api("api_materials.MaterialItem", lambda w: f"/api/v1/materials/{w.material.id}", "PATCH"),
    api("api_participants.Participants", lambda w: "/api/v1/participants"),
    api("api_participants.ParticipantItem", lambda w: f"/api/v1/participants/{w.participant.id}"),
    api(
        "api_participants.ParticipantItem",
        lambda w: f"/api/v1/participants/{w.participant.id}",
        "PATCH",
    ),
    api(
        "api_consent.ParticipantConsent",
        lambda w: f"/api/v1/participants/{w.participant.id}/consent",
    ),
    api(
        "api_consent.ParticipantConsent",
        lambda w: f"/api/v1/participants/{w.participant.id}/consent",
        "POST",
    ),
    api("api_measures.Measures", lambda w: "/api/v1/measures"),
    api("api_measures.MeasureItem", lambda w: "/api/v1/measures/ons4"),
    api("api_answer_sets.AnswerSets", lambda w: "/api/v1/answer-sets"),
    api("api_answer_sets.AnswerSets", lambda w: "/api/v1/answer-sets", "POST"),
    api("api_stations.Stations", lambda w: "/api/v1/stations"),
    api("api_stations.StationItem", lambda w: f"/api/v1/stations/{w.station.id}"),
    api("api_programmes.Programmes", lambda w: "/api/v1/programmes"),
    api("api_programmes.Programmes", lambda w: "/api/v1/programmes", "POST"),
    api("api_programmes.ProgrammeItem", lambda w: f"/api/v1/programmes/{w.programme.id}"),
    api(
        "api_programmes.ProgrammeItem",
        lambda w: f"/api/v1/programmes/{w.programme.id}",
        "PATCH",
    ),
    api("api_episodes.Episodes", lambda w: "/api/v1/episodes"),
    api("api_episodes.Episodes", lambda w: "/api/v1/episodes", "POST"),
    api("api_episodes.EpisodeItem", lambda w: f"/api/v1/episodes/{w.episode.id}"),
    api("api_episodes.EpisodeItem", lambda w: f"/api/v1/episodes/{w.episode.id}", "PATCH"),
    api("api_episodes.EpisodeVoices", lambda w: f"/api/v1/episodes/{w.episode.id}/voices"),
    api("api_episodes.EpisodeVoices", lambda w: f"/api/v1/episodes/{w.episode.id}/voices", "PUT"),
    api("api_broadcasts.Broadcasts", lambda w: "/api/v1/broadcasts"),
    api("api_broadcasts.Broadcasts", lambda w: "/api/v1/broadcasts", "POST"),
    api("api_broadcasts.BroadcastItem", lambda w: f"/api/v1/broadcasts/{w.broadcast.id}"),
    api("api_broadcasts.BroadcastItem", lambda w: f"/api/v1/broadcasts/{w.broadcast.id}", "PATCH"),
    api("api_feed_tokens.FeedTokens", lambda w: "/api/v1/feed-tokens"),
    api("api_feed_tokens.FeedTokens", lambda w: "/api/v1/feed-tokens", "POST"),
    api("api_feed_tokens.FeedTokenItem", lambda w: "/api/v1/feed-tokens/1"),
    api("api_feed_tokens.FeedTokenItem", lambda w: "/api/v1/feed-tokens/1", "DELETE"),
    api("api_feed_tokens.FeedTokenRotation", lambda w: "/api/v1/feed-tokens/1/rotate", "POST"),
    api("api_workforce.Leaders", lambda w: "/api/v1/leaders"),
    api("api_workforce.LeaderItem", lambda w: f"/api/v1/leaders/{w.leader.id}"),
    api("api_workforce.LeaderChecks", lambda w: f"/api/v1/leaders/{w.leader.id}/checks", "POST"),
    api(
        "api_workforce.LeaderTraining", lambda w: f"/api/v1/leaders/{w.leader.id}/training", "POST"
    ),
    api(
        "api_workforce.LeaderCheckItem",
        lambda w: f"/api/v1/leaders/{w.leader.id}/checks/1",
        "PATCH",
    ),
    api(
        "api_workforce.LeaderCheckItem",
        lambda w: f"/api/v1/leaders/{w.leader.id}/checks/1",
        "DELETE",
    ),
    api(
        "api_workforce.LeaderTrainingItem",
        lambda w: f"/api/v1/leaders/{w.leader.id}/training/1",
        "PATCH",
    ),
    api(
        "api_workforce.LeaderTrainingItem",
        lambda w: f"/api/v1/leaders/{w.leader.id}/training/1",
        "DELETE",
    ),
    api(
        "api_workforce.SessionHours",
        lambda w: f"/api/v1/sessions/{w.past_session.id}/hours/{w.leader.id}",
    ),
    api(
        "api_workforce.SessionHours",
        lambda w: f"/api/v1/sessions/{w.past_session.id}/hours/{w.leader.id}",
        "PUT",
    ),
    api("api_workforce.Hours", lambda w: "/api/v1/hours"),
]
