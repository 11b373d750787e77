"""How a message leaves, chosen by ``MAIL_BACKEND`` when it is sent (never when it is queued):

- ``smtp``: the SMTP server in ``MAIL_HOST`` (``MAIL_PORT``, ``MAIL_TLS``, ``MAIL_USERNAME``,
  ``MAIL_PASSWORD``);
- ``folder``: one ``.eml`` file per message in ``MAIL_FOLDER`` (default ``instance/mail``), for
  development: read them with any mail program;
- ``outbox``: nothing leaves; messages wait in the Outbox page, and go out once a sending
  backend is configured;
- ``auto`` (the default): ``smtp`` when ``MAIL_HOST`` is set, else ``outbox``.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import current_app

from ..config import MAIL_BACKENDS

Transport = Callable[[EmailMessage], None]


def backend_name(config: Any = None) -> str:
    """The backend in force: ``auto`` resolved to ``smtp`` or ``outbox``."""
    config = config if config is not None else current_app.config
    name = config["MAIL_BACKEND"]
    if name == "auto":
        return "smtp" if config.get("MAIL_HOST") else "outbox"
    return name


def current_transport() -> Transport | None:
    """The function that sends a message now, or None when messages wait in the outbox."""
    return TRANSPORTS[backend_name()]


def send_smtp(email: EmailMessage) -> None:
    config = current_app.config
    host, port, tls = config["MAIL_HOST"], int(config["MAIL_PORT"]), config["MAIL_TLS"]
    if tls == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=30, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=30)
    with smtp:
        if tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)


def mail_folder() -> Path:
    configured = current_app.config["MAIL_FOLDER"]
    return Path(configured) if configured else Path(current_app.instance_path) / "mail"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def write_to_folder(email: EmailMessage) -> None:
    """The message as an .eml file, named by its Message-ID (so a repeat overwrites itself),
    written whole or not at all."""
    folder = mail_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = _UNSAFE.sub("-", str(email["Message-ID"]).strip("<>")) + ".eml"
    fd, partial = tempfile.mkstemp(dir=folder, prefix=".writing-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(email.as_bytes())
        os.replace(partial, folder / name)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


TRANSPORTS: dict[str, Transport | None] = {
    "smtp": send_smtp,
    "folder": write_to_folder,
    "outbox": None,
}
assert set(TRANSPORTS) == set(MAIL_BACKENDS) - {"auto"}
