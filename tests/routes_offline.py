"""What each role gets from the installable web app's routes: the service worker and manifest
are public files; the list of pages kept offline is a reader leader's only."""

from .route_table import ROLES, SIGN_IN, Route

ROUTES = [
    Route("offline.service_worker", lambda w: "/sw.js", {r: 200 for r in ROLES}),
    Route("offline.manifest", lambda w: "/manifest.webmanifest", {r: 200 for r in ROLES}),
    Route(
        "offline.pages",
        lambda w: "/offline/pages.json",
        {"leader": 200, "other_leader": 200, "anonymous": SIGN_IN},
    ),
]
