"""The audit trail: who created, changed, deleted, exported or viewed what, and from where."""
