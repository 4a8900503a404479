"""Head models, inverse operators, per-spindle cortical sources and their synchrony."""
