"""Sub-commands of the command line (see :mod:`core.cli.main`)."""
