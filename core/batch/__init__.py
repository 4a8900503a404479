"""Cohorts: one task per recording on Dask, provenance and resume, group statistics.

``python main.py batch DATASET --out DERIV`` is :func:`run_batch`; the pieces
are :func:`discover` (BIDS root or sample list), :func:`process_recording`
(one recording, run on a worker), :func:`iter_batch` (the Dask loop) and
:func:`write_group` (``DERIV/group/``).
"""

from core.batch.dataset import RecordingItem, discover, discover_bids, read_sample_list
from core.batch.group import write_group
from core.batch.runner import (clean_scratch, iter_batch, make_client, make_settings,
                               run_batch, write_errors)
from core.batch.stats import figure_keys, figure_statistics, group_statistics, null_values
from core.batch.task import process_recording

__all__ = ["RecordingItem", "discover", "discover_bids", "read_sample_list",
           "write_group", "clean_scratch", "iter_batch", "make_client", "make_settings",
           "run_batch", "write_errors", "figure_keys", "figure_statistics",
           "group_statistics", "null_values", "process_recording"]
