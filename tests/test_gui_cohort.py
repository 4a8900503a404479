"""File ▸ Open cohort results: participants, group statistics, pooled panels, maps."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gui_fixtures import gui_env, window  # noqa: F401

pytest.importorskip("distributed")

FIGS = ("eeg_within_r", "meg_within_r", "between_r", "coherence_welch", "coherence_mvdr")


@pytest.fixture(scope="module")
def deriv(tmp_path_factory):
    """A DERIV written by the group step of ``batch`` from three recordings'
    outputs (synthetic figures and maps on the template; one with a null)."""
    import mne

    from core.batch.group import write_group
    from core.sources.headmodel import template_source_space

    deriv = tmp_path_factory.mktemp("deriv")
    verts = [s["vertno"] for s in template_source_space("ico4")]
    n_src = sum(len(v) for v in verts)
    rng = np.random.default_rng(0)
    results = []
    for k, (subj, n) in enumerate((("01", 3), ("02", 2), ("01", 4))):
        stem = f"sub-{subj}_ses-{k}_task-sleep"
        folder = deriv / f"sub-{subj}" / f"ses-{k}"
        folder.mkdir(parents=True)
        summary = {"n_spindles": n, "method": "dSPM", "snr": 3.0, "band": [10.0, 15.0],
                   "coherence_band": [10.0, 15.0], "n_sources": n_src}
        for i, f in enumerate(FIGS):
            vals = list(0.1 * (i + 1) + 0.01 * rng.standard_normal(n))
            summary[f] = float(np.mean(vals))
            summary[f + "_sd"] = float(np.std(vals, ddof=1))
            summary[f + "_per_spindle"] = vals
            summary[f + "_null_values"] = list(0.05 * (i + 1) + 0.01 * rng.standard_normal(6))
        (folder / f"{stem}_desc-sources_summary.json").write_text(json.dumps(summary))
        stc = mne.SourceEstimate(np.full((n_src, 1), float(k + 1)), verts, 0, 1,
                                 subject="fsaverage")
        stc.save(folder / f"{stem}_desc-betweenrmap-stc.h5", ftype="h5", verbose="error")
        results.append({"recording": stem, "subject": subj, "session": str(k),
                        "folder": f"sub-{subj}/ses-{k}", "status": "done", "source": "x",
                        "outputs": {"summary": f"{stem}_desc-sources_summary.json",
                                    "between_r_map": f"{stem}_desc-betweenrmap-stc.h5"}})
    results.append({"recording": "sub-03_task-sleep", "subject": "03", "session": None,
                    "folder": "sub-03", "status": "error", "source": "y",
                    "message": "corrupt"})
    from core.batch.runner import write_errors

    write_errors(deriv / "errors.tsv", results)
    write_group(deriv, results, {"analyze": {"template_spacing": "ico4"}}, "k",
                n_boot=200, n_perm=200)
    return deriv


def test_cohort_view_shows_tables_panels_and_map(qtbot, deriv):
    from core.batch.results import load_cohort
    from gui.sources.cohort_view import CohortView

    cohort = load_cohort(deriv)
    view = CohortView(cohort, backend="image")
    qtbot.addWidget(view)
    view.show()
    s = cohort.summary
    assert (s["n_subjects"], s["n_recordings"], s["n_spindles"]) == (2, 3, 9)
    assert "1 failed (sub-03_task-sleep)" in view.header.text()
    # participants: three recordings, then two subjects
    assert view.participants.rowCount() == 5
    cols = [view.participants.horizontalHeaderItem(c).text()
            for c in range(view.participants.columnCount())]
    assert cols[:5] == ["level", "subject", "session", "recording", "n_spindles"]
    assert [view.participants.item(r, 0).text() for r in range(5)] == \
        ["recording"] * 3 + ["subject"] * 2
    # statistics: one row per figure, with null, excess and p
    assert view.stats.rowCount() == len(FIGS)
    row = [view.stats.item(0, c).text() for c in range(view.stats.columnCount())]
    st = s["figures"][row[0]]
    assert row[4].startswith(f"{st['pooled']:.3f}")
    assert float(row[5]) == pytest.approx(st["pooled_null"], abs=1e-3)
    assert float(row[7]) == pytest.approx(st["p"], rel=1e-3)
    assert st["excess"] > 0.04 and st["p"] < 0.05  # the values sit 0.05 above their null
    # the single-recording panels, pooled over the cohort's nine spindles
    all_eeg = np.concatenate([r["eeg_within_r_per_spindle"]
                              for r in cohort.recordings.values()])
    assert view.panels.selector.count() == 1 + 9
    assert view.panels.table_values()["eeg_within_r"] == pytest.approx(all_eeg.mean())
    assert view.panels.table_values()["eeg_within_r"] == pytest.approx(
        s["figures"]["eeg_within_r"]["pooled"])
    # the group map: subject 01 averages its two recordings (1 and 3), subject 02 is 2
    assert view.map_choice.count() == 1
    np.testing.assert_allclose(view.brain.values, 2.0)
    view.tabs.setCurrentIndex(2)
    view.brain.refresh()
    img = view.brain.label.pixmap().toImage()
    assert img.width() > 50
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), -1)
    assert arr.std() > 5  # a drawn cortex, not a blank image
    view.close()


def test_open_cohort_from_menu(window, deriv, tmp_path):
    from gui.dialogs import common as dialogs

    act = [a for a in window.menuBar().actions() if a.text() == "&File"][0].menu()
    assert "Open &cohort results…" in [a.text() for a in act.actions()]
    view = window.open_cohort(deriv)
    assert view is not None and view.participants.rowCount() == 5
    view.close()
    n = len(dialogs._OPEN)
    assert window.open_cohort(tmp_path) is None  # not a cohort: a message, no traceback
    assert len(dialogs._OPEN) == n + 1
    assert "no cohort results" in dialogs._OPEN[-1].informativeText()
    dialogs._OPEN[-1].close()
