from .groups_support import released
from .route_table import ROLES, Route, everyone

ROUTES = [
    Route("static", lambda w: "/static/css/app.css", {r: 200 for r in ROLES}),
    Route("health.healthz", lambda w: "/healthz", {r: 200 for r in ROLES}),
    Route("web.index", lambda w: "/", {r: 302 for r in ROLES}),
    Route("web.favicon", lambda w: "/favicon.ico", {r: 200 for r in ROLES}),
    Route("auth.sign_in", lambda w: "/sign-in", {"anonymous": 200}, default=302),
    Route("auth.sign_out", lambda w: "/sign-out", everyone(302), method="POST"),
    Route("auth.account", lambda w: "/account", everyone(200)),
    Route("auth.sign_ins", lambda w: "/account/sign-ins", everyone(200)),
    Route(
        "auth.sign_out_everywhere",
        lambda w: released("/account/sign-out-everywhere"),
        everyone(302),
        method="POST",
    ),
]
