"""Partner organisations, their venues, and their partnerships with reading groups."""
