"""Tabs filled by a later version (source workspace, resolution)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class LaterTab(QWidget):
    """A plain label saying what the tab will show; no fake content."""

    def __init__(self, title: str, what: str, parent=None):
        super().__init__(parent)
        self.setObjectName(f"placeholder_{title.lower()}")
        label = QLabel(f"<h3>{title}</h3><p>{what}</p><p><i>Computed in a later "
                       f"version of SpindleScope.</i></p>")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(label)
        self.label = label
