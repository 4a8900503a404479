"""Candidate review: step through detector candidates and accept or reject.

Keys (in the trace browser or this panel): A accept, X reject, N next,
P previous, [ / ] shorten / lengthen the end by 0.1 s, , / . move the start
earlier / later by 0.1 s. Each decision is one undoable edit of the set.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget)

from core.utils import relink

STEP = 0.1  # seconds per adjustment key press
KEYS = {Qt.Key.Key_A: "accept", Qt.Key.Key_X: "reject", Qt.Key.Key_N: "next",
        Qt.Key.Key_P: "previous", Qt.Key.Key_BracketLeft: "shrink",
        Qt.Key.Key_BracketRight: "extend", Qt.Key.Key_Comma: "earlier",
        Qt.Key.Key_Period: "later"}


class ReviewPanel(QWidget):
    """Review candidates one by one.

    Signals
    -------
    sigShow(uid)
        The candidate to bring into view (the browser centres and selects it).
    """

    sigShow = Signal(int)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.current_uid = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.info = QLabel("No candidates. Run a detector from the Analysis menu.")
        self.info.setWordWrap(True)
        self.buttons = {}
        grid = QGridLayout()
        for i, (action, label) in enumerate((
                ("previous", "◀ Previous (P)"), ("next", "Next (N) ▶"),
                ("accept", "Accept (A)"), ("reject", "Reject (X)"),
                ("earlier", "Start − (,)"), ("later", "Start + (.)"),
                ("shrink", "End − ([)"), ("extend", "End + (])"))):
            b = QPushButton(label)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, a=action: self.handle(a))
            grid.addWidget(b, i // 2, i % 2)
            self.buttons[action] = b
        lay = QVBoxLayout(self)
        lay.addWidget(self.info)
        lay.addLayout(grid)
        lay.addStretch(1)
        self._set = None
        session.spindles_changed.connect(self._on_spindles_changed)
        self._on_spindles_changed(session.spindles)

    # -- model ----------------------------------------------------------------
    def _on_spindles_changed(self, spindles):
        self._set = relink(self._set, spindles, self._on_set_edited)
        self.current_uid = None
        self._update_info()

    def _on_set_edited(self, *args):
        if self.current_uid is not None:
            try:
                self._set.get(self.current_uid)
            except Exception:
                self.current_uid = None
        self._update_info()

    def candidates(self):
        """Candidates ordered by onset."""
        return [s for s in self._set if s.status == "candidate"]

    def _update_info(self):
        cands = self.candidates()
        if self.current_uid is None:
            self.info.setText(f"{len(cands)} candidate(s) to review."
                              if cands else "No candidates to review.")
        else:
            sp = self._set.get(self.current_uid)
            uids = [c.uid for c in cands]
            pos = f"{uids.index(sp.uid) + 1} / {len(cands)}" if sp.uid in uids \
                else f"({len(cands)} left)"
            freq = sp.properties.get("frequency")
            self.info.setText(
                f"Candidate {pos}: {sp.onset:.2f} s, {sp.duration:.2f} s"
                + (f", {float(freq):.1f} Hz" if freq is not None else "")
                + f", {sp.visibility or 'visibility unknown'}, {sp.origin}, "
                  f"status {sp.status}")
        for b in self.buttons.values():
            b.setEnabled(bool(cands) or self.current_uid is not None)

    # -- navigation -------------------------------------------------------------
    def start(self):
        """Go to the first candidate (returns its uid or None)."""
        cands = self.candidates()
        self.goto(cands[0].uid if cands else None)
        return self.current_uid

    def goto(self, uid):
        self.current_uid = uid
        self._update_info()
        if uid is not None:
            self.sigShow.emit(uid)

    def _neighbour(self, direction: int):
        cands = self.candidates()
        if not cands:
            return None
        if self.current_uid is None:
            return cands[0].uid if direction > 0 else cands[-1].uid
        cur = self._set.get(self.current_uid)
        key = (cur.onset, cur.uid)
        if direction > 0:
            later = [c for c in cands if (c.onset, c.uid) > key]
            return later[0].uid if later else None
        earlier = [c for c in cands if (c.onset, c.uid) < key]
        return earlier[-1].uid if earlier else None

    def handle(self, action: str):
        """Apply a review action (``accept``, ``reject``, ``next``, ...)."""
        if action in ("next", "previous"):
            uid = self._neighbour(1 if action == "next" else -1)
            if uid is not None:
                self.goto(uid)
            return
        if self.current_uid is None:
            self.start()
            if self.current_uid is None:
                return
            if action not in ("accept", "reject"):
                return
        uid = self.current_uid
        sp = self._set.get(uid)
        if action in ("accept", "reject"):
            nxt = self._neighbour(1)
            self._set.edit(uid, status="accepted" if action == "accept" else "rejected")
            self.goto(nxt)
        elif action == "shrink" and sp.duration > 2 * STEP:
            self._set.edit(uid, duration=sp.duration - STEP)
        elif action == "extend":
            self._set.edit(uid, duration=sp.duration + STEP)
        elif action == "earlier" and sp.onset >= STEP:
            self._set.edit(uid, onset=sp.onset - STEP, duration=sp.duration + STEP)
        elif action == "later" and sp.duration > 2 * STEP:
            self._set.edit(uid, onset=sp.onset + STEP, duration=sp.duration - STEP)
        if self.current_uid is not None:
            self.sigShow.emit(self.current_uid)

    def keyPressEvent(self, ev):
        action = KEYS.get(ev.key())
        if action is None or ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            return super().keyPressEvent(ev)
        self.handle(action)
        ev.accept()
