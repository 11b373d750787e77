from .route_table import SIGN_IN, Route

# Admins, managers and partner viewers (their own organisation's figures only); leaders get 403.
VIEWERS = {"admin": 200, "manager": 200, "partner": 200, "other_partner": 200, "anonymous": SIGN_IN}

ROUTES = [
    Route("exports.index", lambda w: "/exports/", VIEWERS),
    Route("exports.attendance", lambda w: "/exports/attendance?format=csv", VIEWERS),
    Route("exports.report", lambda w: "/reports/partnership", VIEWERS),
    Route("exports.report_csv", lambda w: "/reports/partnership.csv", VIEWERS),
    Route("exports.report_xlsx", lambda w: "/reports/partnership.xlsx", VIEWERS),
]
