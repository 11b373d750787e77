"""Outgoing mail: an outbox every message passes through, delivered over SMTP when configured."""
