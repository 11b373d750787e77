"""Prison radio: programmes, recorded episodes and their broadcasts on a station."""
