"""Writing analysis results: JSON, CSV, STC and HTML reports."""
