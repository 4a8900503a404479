"""Compare the session's marks with another scorer's file.

Shows the agreement figures and disagreements exactly as core computes them
(:func:`core.scoring.evaluation.disagreements`, :func:`core.scoring.agreement.stage_disagreements`)
and lists the disagreements (misses and extra marks); clicking one jumps there.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from core.utils import SpindleScopeError


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
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)
        lay.addWidget(self.list, 1)

    def clear(self):
        self.summary, self.disagreements = {}, []
        self.list.clear()
        self.label.setText("Analysis → Compare with another scorer's file…")

    def compare_file(self, path, marks="not-rejected"):
        """Compare the session's marks with the marks in ``path`` through
        :meth:`core.session.session.Session.compare` (the ``compare`` command's
        pipeline; ``marks`` picks which marks of both sides count)."""
        rec = self.session.recording
        if rec is None:
            raise SpindleScopeError("Open a recording before comparing scorings.")
        _agr, ref, mine = self.session.compare(path, marks=marks)
        from core.scoring.evaluation import disagreements

        summary, dis = disagreements(ref, mine, rec.duration)
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
