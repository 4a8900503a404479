"""SpindleScope's headless core: recordings, head models, sources, synchrony.

Nothing in this package imports Qt, pyqtgraph or pyvistaqt (house rule 1), so
every analysis runs from scripts, the command line and tests.
"""

__version__ = "0.1.0"
