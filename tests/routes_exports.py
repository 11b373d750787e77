from datetime import date
from itertools import count

from readerapp.exports.models import ReportNarrative, ReportPreset
from readerapp.extensions import db

from .groups_support import released
from .route_table import SIGN_IN, Route, staff

# Admins, managers and partner viewers (their own organisation's figures only); leaders get 403.
VIEWERS = {"admin": 200, "manager": 200, "partner": 200, "other_partner": 200, "anonymous": SIGN_IN}

SCOPE = "date_from=2026-01-01&date_to=2026-03-31"
_names = count(1)


def _preset_id() -> int:
    """A fresh preset for each request (staff delete theirs as they go)."""
    preset = ReportPreset(name=f"Preset {next(_names)}", period_type="quarter", sections="groups")
    db.session.add(preset)
    db.session.commit()
    return preset.id


def _narrative_id(w) -> int:
    narrative = db.session.scalar(
        db.select(ReportNarrative.id).where(ReportNarrative.organisation_id == w.host.id)
    )
    if narrative is None:
        row = ReportNarrative(
            organisation_id=w.host.id,
            date_from=date(2026, 1, 1),
            date_to=date(2026, 3, 31),
            version=1,
            text="A good quarter.",
        )
        db.session.add(row)
        db.session.commit()
        narrative = row.id
    return narrative


ROUTES = [
    Route("exports.index", lambda w: "/exports/", VIEWERS),
    Route("exports.attendance", lambda w: "/exports/attendance?format=csv", VIEWERS),
    Route("exports.report", lambda w: "/reports/partnership", VIEWERS),
    Route("exports.report_csv", lambda w: "/reports/partnership.csv", VIEWERS),
    Route("exports.report_xlsx", lambda w: "/reports/partnership.xlsx", VIEWERS),
    # Managers and admins write a report's narrative; partners read it in their report only.
    Route(
        "exports.narrative_edit",
        lambda w: f"/reports/partnership/narrative?organisation={w.host.id}&{SCOPE}",
        staff(),
    ),
    Route(
        "exports.narrative_edit",
        lambda w: released(f"/reports/partnership/narrative?organisation={w.host.id}&{SCOPE}"),
        staff(400),
        method="POST",
        data=lambda w: {"text": "x" * 5001, "based_on": "0"},
    ),
    Route(
        "exports.narrative_versions",
        lambda w: f"/reports/partnership/narrative/versions?organisation={w.host.id}&{SCOPE}",
        staff(),
    ),
    Route(
        "exports.narrative_version",
        lambda w: f"/reports/partnership/narrative/versions/{_narrative_id(w)}",
        staff(),
    ),
    Route("exports.presets", lambda w: "/reports/presets", staff()),
    Route(
        "exports.preset_create",
        lambda w: released("/reports/presets"),
        staff(400),
        method="POST",
        data=lambda w: {"name": "", "period_type": "fortnight"},
    ),
    Route(
        "exports.preset_delete",
        lambda w: f"/reports/presets/{_preset_id()}/delete",
        staff(302),
        method="POST",
    ),
    Route("exports.preset_run", lambda w: f"/reports/presets/{_preset_id()}/run", staff(302)),
]
