"""What browser test modules share: finding Debian's Chromium, launching it, serving the test
app over real HTTP, and signing in through the real form.

A missing browser skips the module with a plain message, unless REQUIRE_BROWSER_TESTS=1 (CI),
where it is a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from .factories import PASSWORD

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def no_browser(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER_TESTS") == "1":
        pytest.fail(f"browser tests required but {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


def chromium_path() -> str | None:
    for candidate in (*CHROMIUM_CANDIDATES, shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """A headless Chromium, or a skip (see the module docstring)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        no_browser("the playwright package is not installed")
    path = chromium_path()
    if path is None:
        no_browser("no Chromium found (install Debian's chromium package)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free local port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def sign_in(page: Any, base_url: str, email: str) -> None:
    """Sign in through the real form, as a person would; the page's context keeps the cookie."""
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if page.url.startswith(f"{base_url}/sign-in/set-up-two-factor"):
        # Staff set up two-factor sign-in at their first sign-in, as a person would.
        set_up_two_factor(page)
        with page.expect_navigation():
            page.get_by_role("link", name="I have kept them: continue").click()
    # Each role lands on a page of its own (the home page's redirect): wait to leave this one.
    page.wait_for_url(lambda url: not url.startswith(f"{base_url}/sign-in"))


def set_up_two_factor(page: Any) -> str:
    """Read the key beside the QR code, as an authenticator app would, and give its code;
    returns the key."""
    import pyotp

    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.get_by_role("button", name="Turn on two-factor sign-in").click()
    return secret
