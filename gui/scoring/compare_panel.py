"""Compare the session's marks with another scorer's file.

Shows the agreement figures and disagreements exactly as core computes them
(:func:`core.scoring.evaluation.disagreements`, :func:`core.scoring.agreement.stage_disagreements`)
and lists the disagreements (misses and extra marks); clicking one jumps there.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QVBoxLayout, QWidget)

from core.session.pipeline import COMPARE_MARKS
from core.utils import SpindleScopeError

#: how each of core's :data:`~core.session.pipeline.COMPARE_MARKS` reads
MARKS_LABELS = {"not-rejected": "not rejected", "accepted": "accepted only",
                "all": "all marks"}


class ComparePanel(QWidget):
    """Agreement summary and navigable list of disagreements.

    Signals
    -------
    sigJump(t)
        A disagreement was clicked (the browser centres on ``t``).
    """

    sigJump = Signal(float)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.summary: dict = {}
        self.disagreements: list = []
        self.label = QLabel("Analysis → Compare with another scorer's file…")
        self.label.setWordWrap(True)
        self.list = QListWidget()
        self.list.itemClicked.connect(self._on_item_clicked)
        self.list.itemActivated.connect(self._on_item_clicked)
        # which marks count on both sides: core's choices, in core's order
        self.marks_box = QComboBox()
        for key in COMPARE_MARKS:
            self.marks_box.addItem(MARKS_LABELS.get(key, key), key)
        self.marks_box.setToolTip("Which marks of both scorings the comparison counts")
        self.marks_box.currentIndexChanged.connect(self._on_marks_changed)
        self._last_file = None
        row = QHBoxLayout()
        row.addWidget(QLabel("Marks:"))
        row.addWidget(self.marks_box, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.label)
        lay.addWidget(self.list, 1)

    def marks(self) -> str:
        """The marks rule chosen, one of :data:`~core.session.pipeline.COMPARE_MARKS`."""
        return self.marks_box.currentData()

    def set_marks(self, marks: str):
        """Choose the marks rule (re-compares the last file)."""
        from core.utils import check_option

        check_option("marks", marks, COMPARE_MARKS)
        self.marks_box.setCurrentIndex(COMPARE_MARKS.index(marks))

    def _on_marks_changed(self, _index):
        if self._last_file is not None and self.session.recording is not None:
            try:
                self.compare_file(self._last_file)
            except SpindleScopeError as exc:
                self.label.setText(f"Cannot compare: {exc}")

    def clear(self):
        self._last_file = None
        self.summary, self.disagreements = {}, []
        self.list.clear()
        self.label.setText("Analysis → Compare with another scorer's file…")

    def compare_file(self, path, marks=None):
        """Compare the session's marks with the marks in ``path`` through
        :meth:`core.session.session.Session.compare` (the ``compare`` command's
        pipeline; ``marks`` picks which marks of both sides count, the
        panel's choice when None, and sets that choice)."""
        if marks is not None and marks != self.marks():
            self._last_file = None   # no re-compare of the previous file
            self.set_marks(marks)
        marks = self.marks()
        rec = self.session.recording
        if rec is None:
            raise SpindleScopeError("Open a recording before comparing scorings.")
        _agr, ref, mine = self.session.compare(path, marks=marks)
        from core.scoring.evaluation import disagreements

        summary, dis = disagreements(ref, mine, rec.duration)
        self._last_file = path
        self.show_result(summary, dis, Path(path).name)
        self.session.set_result("compare", {"file": str(path), "marks": marks, **{
            k: (float(v) if isinstance(v, (int, float)) else v) for k, v in summary.items()}})
        return summary

    def show_result(self, summary, disagreements, name=""):
        self.summary, self.disagreements = summary, disagreements
        figs = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in summary.items())
        self.label.setText(f"Against {name}: {figs}. {len(disagreements)} "
                           f"disagreement(s); click to jump.")
        self.list.clear()
        for t, text in disagreements:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, float(t))
            self.list.addItem(item)

    def _on_item_clicked(self, item):
        self.sigJump.emit(float(item.data(Qt.ItemDataRole.UserRole)))

    def compare_hypnograms(self, reference, other, name=""):
        """Epoch-by-epoch agreement of the session's stages (``other``) with
        ``reference``: accuracy, kappa, per-stage F1 and the confusion matrix
        in the label, each disagreeing epoch in the list (click to jump)."""
        from core.scoring.agreement import stage_disagreements

        agr, summary, dis = stage_disagreements(reference, other)
        self.show_result(summary, dis, name)
        self.label.setText(self.label.text() + "\n" + agr.summary().split("\n", 3)[3])
        self.stage_agreement = agr
        return agr
