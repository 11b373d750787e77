"""``GET /feeds/<token>.ics``: the feed, with the caching calendar apps rely on.

A revalidation costs a token look-up and a few aggregate queries (``feed_state``): when the state
matches what was last served, the stored ETag and Last-Modified answer a conditional request
without building anything. Otherwise the feed is built from cached event texts, and what
changed is written in a short transaction of its own, begun IMMEDIATE on SQLite (GET requests
otherwise begin deferred), after the read transaction has ended.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Response, abort, request
from werkzeug.http import http_date

from ..db import sqlite_read_only
from ..extensions import db
from ..security import token_accepted
from ..timeutil import utcnow
from .ical import CONTENT_TYPE, render_feed
from .operations import (
    find_active_token,
    prune_event_texts,
    record_served,
    store_event_texts,
    unrecorded_last_modified,
)
from .queries import feed_rows, feed_state, feed_window, scope_of

logger = logging.getLogger(__name__)


def _not_modified(etag: str, last_modified: datetime, now: datetime) -> bool:
    # If-None-Match, when sent, decides alone (RFC 9110 §13.2.2).
    if request.headers.get("If-None-Match") is not None:
        return request.if_none_match.contains_weak(etag.strip('"'))
    since = request.if_modified_since  # None when absent or not a valid HTTP date
    # A date in the future is invalid: ignore it. (Last-Modified is rounded up to the whole
    # second, so it may lie up to a second ahead.)
    if since is None or since > now.replace(microsecond=0) + timedelta(seconds=1):
        return False
    return last_modified.replace(microsecond=0) <= since


def _respond(body: bytes | None, etag: str, last_modified: datetime) -> Response:
    response = Response(body or b"", status=200 if body is not None else 304)
    if body is not None:
        response.headers["Content-Type"] = CONTENT_TYPE
    else:
        response.headers.pop("Content-Type", None)
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(last_modified)
    response.headers["Cache-Control"] = "private, max-age=300"
    # Some calendar clients fail on compressed feeds: the bytes go out as they are.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def serve_feed(raw_token: str) -> Response:
    now = utcnow()
    token = find_active_token(raw_token)
    if token is None:
        abort(404)
    token_accepted()
    scope = scope_of(token)
    if scope is None:
        abort(404)
    window = feed_window(now)
    state = feed_state(scope, window)
    token_id = token.id
    served_etag, served_last_modified = token.served_etag, token.served_last_modified
    known = (
        token.served_state == state and served_etag is not None and served_last_modified is not None
    )
    if known and _not_modified(served_etag, served_last_modified, now):
        return _respond(None, served_etag, served_last_modified)

    built = render_feed(scope.calendar_name, window.years, feed_rows(scope, window))
    if known and built.etag == served_etag and not built.misses:
        return _respond(built.body, served_etag, served_last_modified)

    # Something changed (or the cache was cold): record it in a write transaction of its own.
    db.session.commit()
    previous = sqlite_read_only.set(False)
    try:
        store_event_texts(built.misses)
        if built.misses:
            prune_event_texts(window.lower)
        last_modified = record_served(
            token_id, state=state, etag=built.etag, newest=built.newest, now=now
        )
        db.session.commit()
    except sa.exc.OperationalError:
        # The database would not take the write in time. The feed is still right: serve it
        # with a Last-Modified that cannot be earlier than the last one, and record next time.
        db.session.rollback()
        logger.warning("feed %s: could not record what was served", token_id)
        last_modified = unrecorded_last_modified(served_last_modified, built.newest, now)
        return _respond(built.body, built.etag, last_modified)
    finally:
        sqlite_read_only.reset(previous)
    if last_modified is None:  # revoked meanwhile
        abort(404)
    if _not_modified(built.etag, last_modified, now):
        return _respond(None, built.etag, last_modified)
    return _respond(built.body, built.etag, last_modified)
