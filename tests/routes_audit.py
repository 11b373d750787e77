from .route_table import Route, admins

ROUTES = [
    Route("audit.index", lambda w: "/audit", admins(200)),
    Route("audit.export_csv", lambda w: "/audit/export.csv", admins(200)),
]
