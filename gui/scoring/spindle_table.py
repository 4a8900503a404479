"""Spindle table: every mark, sortable and filterable; a click jumps there."""

from __future__ import annotations

from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QSortFilterProxyModel,
                            Qt, QTimer, Signal)
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QTableView, QVBoxLayout, QWidget)

from core.utils import relink

COLUMNS = ("onset", "duration", "channels", "visibility", "status", "origin",
           "scorer", "frequency")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
UID_ROLE = Qt.ItemDataRole.UserRole + 2


class SpindleTableModel(QAbstractTableModel):
    """Read-only table view of a :class:`core.scoring.spindles.SpindleSet`."""

    def __init__(self, spindles=None, parent=None):
        super().__init__(parent)
        self._rows = []
        self._set = None
        self.set_spindles(spindles)

    def set_spindles(self, spindles):
        self._set = relink(self._set, spindles, self._on_spindles_changed)
        self._on_spindles_changed()

    def _on_spindles_changed(self, *args):
        self.beginResetModel()
        self._rows = list(self._set) if self._set is not None else []
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()):
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section].capitalize()
        return None

    def spindle(self, row):
        return self._rows[row]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        sp = self._rows[index.row()]
        col = COLUMNS[index.column()]
        if role == UID_ROLE:
            return sp.uid
        if col == "onset":
            val, text = sp.onset, f"{sp.onset:.2f}"
        elif col == "duration":
            val, text = sp.duration, f"{sp.duration:.2f}"
        elif col == "channels":
            text = ", ".join(sp.channels) if sp.channels else "all"
            val = text
        elif col == "frequency":
            f = sp.properties.get("frequency") if sp.properties else None
            val = float(f) if f is not None else -1.0
            text = f"{val:.1f}" if f is not None else ""
        else:
            val = text = getattr(sp, col) or ""
        if role == SORT_ROLE:
            return val
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        return None


class SpindleFilter(QSortFilterProxyModel):
    """Filter by status and by free text over all columns."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.status = ""
        self.text = ""
        self.setSortRole(SORT_ROLE)

    def _refilter(self, change):
        # Qt >= 6.9 replaces invalidateFilter() by begin/endFilterChange()
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            change()
            self.endFilterChange()
        else:  # pragma: no cover - older Qt
            change()
            self.invalidateFilter()

    def set_status(self, status):
        self._refilter(lambda: setattr(self, "status", status))

    def set_text(self, text):
        self._refilter(lambda: setattr(self, "text", text.strip().lower()))

    def filterAcceptsRow(self, row, parent):
        sp = self.sourceModel().spindle(row)
        if self.status and sp.status != self.status:
            return False
        if self.text:
            hay = " ".join(str(x) for x in (sp.channels, sp.visibility, sp.status,
                                            sp.origin, sp.scorer)).lower()
            return self.text in hay
        return True


class SpindleTable(QWidget):
    """The spindle table with its filter bar.

    Signals
    -------
    sigJump(uid)
        A row was clicked (the browser shows that mark).
    """

    sigJump = Signal(int)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.model = SpindleTableModel(session.spindles, self)
        self.proxy = SpindleFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.clicked.connect(self._on_clicked)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("filter: channel, scorer, origin…")
        self.search.textChanged.connect(self.proxy.set_text)
        self.status = QComboBox(self)
        self.status.addItems(["all", "accepted", "candidate", "rejected"])
        self.status.currentTextChanged.connect(
            lambda t: self.proxy.set_status("" if t == "all" else t))
        self.count = QLabel(self)
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.status)
        bar.addWidget(self.count)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.timeout.connect(self._update_count)
        self.proxy.modelReset.connect(self._count_timer.start)
        self.proxy.layoutChanged.connect(self._count_timer.start)
        session.spindles_changed.connect(self._on_spindles_changed)
        self._update_count()

    def _on_spindles_changed(self, spindles):
        self.model.set_spindles(spindles)

    def _update_count(self):
        self.count.setText(f"{self.proxy.rowCount()} / {self.model.rowCount()}")

    def _on_clicked(self, index):
        uid = self.proxy.data(index, UID_ROLE)
        if uid is not None:
            self.sigJump.emit(int(uid))
