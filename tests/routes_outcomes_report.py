from .route_table import SIGN_IN, Route, staff

# The outcomes report and its aggregate downloads: staff, and partner viewers for their own
# organisation (protected figures); reader leaders get 403, as for every report.
VIEWERS = {"admin": 200, "manager": 200, "partner": 200, "other_partner": 200, "anonymous": SIGN_IN}

ROUTES = [
    Route("outcomes_report.page", lambda w: "/reports/outcomes", VIEWERS),
    Route("outcomes_report.report_csv", lambda w: "/reports/outcomes.csv", VIEWERS),
    Route("outcomes_report.report_xlsx", lambda w: "/reports/outcomes.xlsx", VIEWERS),
    # Answer sets by participant code: health data, managers and admins only.
    Route("outcomes_report.answers_csv", lambda w: "/reports/outcomes/answers.csv", staff()),
    Route("outcomes_report.answers_xlsx", lambda w: "/reports/outcomes/answers.xlsx", staff()),
]
