"""Request ids and log lines: every request gets an id (a proxy's, if well-formed) returned as
X-Request-ID; each answered request logs one line; JSON lines carry the id and never a secret
or a participant's code or name. The multi-process side (gunicorn's own lines as JSON, lines
from several workers) is in test_metrics.py."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from readerapp.config import ConfigError, load
from readerapp.extensions import db
from readerapp.feeds.operations import create_token
from readerapp.logs import JsonFormatter, RequestFields

from .audit_support import live_logs  # noqa: F401
from .world import SECRET_CODE, SECRET_NAME, build_world, sign_in_as


def test_request_ids(app: Flask) -> None:
    client = app.test_client()
    ours = client.get("/healthz").headers["X-Request-ID"]
    assert len(ours) == 32 and int(ours, 16) >= 0
    assert client.get("/healthz").headers["X-Request-ID"] != ours
    for proxy in ("6f1c2a8e-0b7d-4c4e-9a51-3f2b8d9e7c10", "6F1C2A8E0B7D4C4E9A513F2B8D9E7C10"):
        given = client.get("/healthz", headers={"X-Request-ID": proxy}).headers["X-Request-ID"]
        assert given == proxy
    for bad in (SECRET_CODE, "x" * 32, "6f1c2a8e 0b7d", f"{proxy}0", "../../etc/passwd"):
        given = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert given != bad and len(given) == 32


def test_the_log_format_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="text, json"):
        load(tmp_path, None, {"SECRET_KEY": "k", "READERAPP_LOG_FORMAT": "yaml"})
    assert load(tmp_path, None, {"SECRET_KEY": "k"})["LOG_FORMAT"] == "text"


def test_json_lines_are_scrubbed_and_keep_no_exception_message() -> None:
    try:
        raise ValueError(f"cannot register {SECRET_NAME}")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "readerapp.x", logging.ERROR, __file__, 1, "polled /feeds/abc123.ics", None, exc_info
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "polled /feeds/[redacted]"
    assert line["level"] == "ERROR" and line["logger"] == "readerapp.x"
    assert line["time"].endswith("+00:00")
    assert line["exception"] == "ValueError"
    assert "test_logs.py" in line["traceback"]
    assert SECRET_NAME not in json.dumps(line)


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the app's loggers write, as JSON_FORMAT=json writes it, into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestFields())
    logger = logging.getLogger("readerapp")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


@pytest.mark.usefixtures("live_logs")
def test_each_request_logs_one_json_line_with_its_id_and_no_secret(
    app: Flask, json_lines: io.StringIO
) -> None:
    world = build_world()
    _, raw = create_token("organisation", world.host)
    db.session.commit()
    client = app.test_client()
    ids = {
        client.get(f"/feeds/{raw}.ics").headers["X-Request-ID"]: ("feeds.feed", 200),
        client.get(f"/no-such-page/{SECRET_CODE}?q={SECRET_CODE}").headers["X-Request-ID"]: (
            "unmatched",
            404,
        ),
    }
    staff = app.test_client()
    sign_in_as(staff, world.admin)
    # A search for a code: the page may show it, the log line must not.
    response = staff.get(f"/participants?q={SECRET_CODE}&show=name")
    assert response.status_code == 200
    ids[response.headers["X-Request-ID"]] = ("privacy.participants", 200)
    posted = staff.post("/sign-out", data={"code": SECRET_CODE, "name": SECRET_NAME})
    ids[posted.headers["X-Request-ID"]] = ("auth.sign_out", posted.status_code)

    text = json_lines.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    requests = {line["request_id"]: line for line in lines if line["logger"] == "readerapp.request"}
    assert set(requests) == set(ids)
    for request_id, (endpoint, status) in ids.items():
        line = requests[request_id]
        assert line["status"] == status and line["method"] in {"GET", "POST"}
        assert line["endpoint"] == endpoint
        assert line["duration_ms"] >= 0
    for secret in (raw, SECRET_CODE, SECRET_NAME):
        assert secret not in text
