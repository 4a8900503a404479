"""The Sources tab: cortical movies, synchrony and cohort views."""
