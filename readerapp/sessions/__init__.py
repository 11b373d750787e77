"""Sessions (single occurrences of a group) and the reading materials read in them."""
