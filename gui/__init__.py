"""SpindleScope's Qt desktop app; it observes the models of :mod:`core`."""
