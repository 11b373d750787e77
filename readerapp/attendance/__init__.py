"""Attendance: headcounts per delivered session and optional pseudonymous registers."""
