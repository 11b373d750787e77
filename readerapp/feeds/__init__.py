"""Partner iCalendar feeds and their access tokens."""
