"""Reading groups, their leaders and their recurrence patterns."""
