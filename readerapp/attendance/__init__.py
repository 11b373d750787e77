"""Attendance: headcounts per delivered session and optional pseudonymous registers. It builds
on sessions; logging a session with its attendance, and its pages, are the logbook's."""
