"""``make run``: the web server and the scheduler together, both stopped by one Ctrl-C.

The scheduler runs in its own process, never inside a web worker (each worker would otherwise
run every job again).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

RUNNING: list[subprocess.Popen[bytes]] = []


def commands(port: str) -> list[list[str]]:
    bin_dir = os.path.dirname(sys.executable)
    return [
        [
            os.path.join(bin_dir, "gunicorn"),
            "--config",
            "python:readerapp.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        [os.path.join(bin_dir, "flask"), "--app", "wsgi", "scheduler", "run"],
    ]


def stop(*_: object) -> None:
    for process in RUNNING:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 15
    for process in RUNNING:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> int:
    port = os.environ.get("PORT", "5000")
    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    for command in commands(port):
        RUNNING.append(subprocess.Popen(command))  # noqa: S603  (our own fixed commands)
    print(f"readerapp is serving at http://127.0.0.1:{port} (Ctrl-C stops it)", flush=True)
    try:
        while True:
            for process in RUNNING:
                if process.poll() is not None:
                    print(f"{process.args[0]} exited ({process.returncode}); stopping.", flush=True)
                    stop()
                    return process.returncode or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        stop()
        return 0


if __name__ == "__main__":
    sys.exit(main())
