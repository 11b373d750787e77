"""The anchor of ``bench/load.py``: the least a Flask + SQLAlchemy app can do to log a session.

No sign-in, no forms, no ORM objects, no audit trail: a read of the session's version, and a
version-checked write of two UPDATEs (the session, then its attendance) in one transaction. It
runs under the same gunicorn settings on the same database as readerapp, so readerapp's writes
per second divided by these is a figure that a busy machine moves far less than absolute times.

    DATABASE_URL=… gunicorn -c python:readerapp.gunicorn_conf load_anchor:app   (from bench/)

On SQLite it uses readerapp's own connection settings (``readerapp.db``: WAL, busy timeout,
synchronous=NORMAL, reads begun deferred and writes IMMEDIATE), so both pay the same for the
database's own locking.
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, jsonify, request

# readerapp's own SQLite connection settings (they listen on every engine in the process).
from readerapp.db import sqlite_read_only

app = Flask(__name__)
engine = sa.create_engine(os.environ["DATABASE_URL"])


READ = sa.text("SELECT version FROM reading_session WHERE id = :id")
WRITE_SESSION = sa.text(
    "UPDATE reading_session SET version = version + 1, status = 'delivered', notes = :notes, "
    "updated_at = CURRENT_TIMESTAMP WHERE id = :id AND version = :version"
)
WRITE_ATTENDANCE = sa.text(
    "UPDATE attendance SET participants = :participants, updated_at = CURRENT_TIMESTAMP "
    "WHERE session_id = :id"
)


def _answer(version: int) -> Response:
    response = jsonify(session_id=request.view_args["session_id"], version=version)  # type: ignore[index]
    response.set_etag(str(version))
    return response


@app.get("/sessions/<int:session_id>")
def read(session_id: int) -> Any:
    sqlite_read_only.set(True)
    try:
        with engine.connect() as conn:
            version = conn.execute(READ, {"id": session_id}).scalar()
    finally:
        sqlite_read_only.set(False)
    if version is None:
        return {"error": "not found"}, 404
    return _answer(version)


@app.put("/sessions/<int:session_id>")
def write(session_id: int) -> Any:
    expected = request.headers.get("If-Match", "").strip('"')
    if not expected.isdigit():
        return {"error": "If-Match required"}, 428
    body = request.get_json()
    with engine.connect() as conn:
        updated = conn.execute(
            WRITE_SESSION, {"id": session_id, "version": int(expected), "notes": body["notes"]}
        ).rowcount
        if updated != 1:
            conn.rollback()
            return {"error": "stale"}, 412
        conn.execute(WRITE_ATTENDANCE, {"id": session_id, "participants": body["participants"]})
        conn.commit()
    return _answer(int(expected) + 1)
