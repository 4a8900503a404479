"""The trace browser follows its settings' events.

:class:`core.session.settings.Settings` is an evented dataclass: each field
emits its new value when it changes, whoever changed it (a dialog, a key, a
menu, code). :class:`BrowserSettingsLink` connects the fields the trace
browser shows (page length, channels per page, scalings, display filters,
sigma overlay) to the browser, so the browser never needs to be redrawn by
hand by whoever wrote a setting. The browser's own setters write the setting;
writing an equal value emits nothing, so there is no loop.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QTimer

from gui.traces.scales import PERSISTED_KINDS

#: fields that only change how the page is filtered or overlaid
REDRAW_FIELDS = ("highpass", "lowpass", "notch", "sigma_overlay", "sigma_band",
                 "display_filters")


class BrowserSettingsLink:
    """Connect a :class:`gui.traces.browser.TraceBrowser` to its settings' events.

    Parameters
    ----------
    browser : gui.traces.browser.TraceBrowser
        The browser; its ``session.settings`` are followed.
    """

    def __init__(self, browser):
        self.browser = browser
        self.settings = browser.session.settings
        ev = self.settings.events
        self._slots = [(ev.page_duration, self._on_page_duration),
                       (ev.n_channels, self._on_n_channels),
                       (ev.scalings, self._on_scalings)]
        self._slots += [(getattr(ev, name), self._on_display) for name in REDRAW_FIELDS]
        for signal, slot in self._slots:
            signal.connect(slot)
        # one page request for several fields set together (a filter dialog
        # sets high-pass, low-pass and notch): requested once control returns
        self._redraw = QTimer(browser)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(0)
        self._redraw.timeout.connect(browser.refresh)

    def disconnect(self):
        """Stop following (the browser is going away)."""
        for signal, slot in self._slots:
            signal.disconnect(slot)
        self._slots = []

    def _alive(self) -> bool:
        return shiboken6.isValid(self.browser)

    def _on_page_duration(self, value):
        if self._alive() and float(value) != self.browser.duration:
            self.browser.set_duration(float(value))

    def _on_n_channels(self, value):
        if self._alive() and int(value) != self.browser.n_rows:
            self.browser.set_n_rows(int(value))

    def _on_scalings(self, value):
        b = self.browser
        if not self._alive():
            return
        new = {k: float(v) for k, v in dict(value).items() if k in PERSISTED_KINDS}
        if all(b.scalings.get(k) == v for k, v in new.items()):
            return   # the browser wrote them itself
        b.scalings.update(new)
        b._update_legend()
        b._redraw_page()

    def _on_display(self, _value):
        if self._alive():
            self.browser._update_legend()
            self._redraw.start()
