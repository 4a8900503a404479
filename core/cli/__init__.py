"""The command line: one parser and thin commands over the session."""
