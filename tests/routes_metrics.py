"""/metrics is closed unless a token or addresses are configured (the tests configure neither):
every role gets 404, as for a page that does not exist. tests/test_metrics.py opens it."""

from .route_table import ROLES, Route

ROUTES = [
    Route("metrics.metrics", lambda w: "/metrics", {r: 404 for r in ROLES}),
]
