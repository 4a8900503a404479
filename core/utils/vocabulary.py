"""The words SpindleScope uses for sensors and for where a spindle is seen.

One definition, used by code, files and labels alike:

* a **sensor type** is one MNE channel type a detector reads:
  :data:`SENSOR_TYPES` (``"eeg"``, ``"mag"``, ``"grad"``);
* a **sensor set** is the group of sensors an inverse solution or a resolution
  study uses: :data:`SENSOR_SETS` (``"eeg"``, ``"meg"``, ``"meeg"``; the
  resolution study also accepts a single MEG sensor type, :data:`STUDY_SETS`);
* a spindle's **visibility** is the sensors that show it:
  :data:`VISIBILITY` (``"eeg"``, ``"meg"``, ``"both"``, or ``""``: unknown).
  Spindle tables store it in a ``visibility`` column (files written before
  this vocabulary named that column ``modality``; both are read).

Every label shown to a user comes from :data:`SENSOR_LABELS` and
:data:`VISIBILITY_LABELS`; the combined set is always written "MEG+EEG".
"""

from __future__ import annotations

#: MNE channel types read by the detectors (per-type thresholds and units).
SENSOR_TYPES = ("eeg", "mag", "grad")
#: Sensor sets of the per-spindle source analysis (one inverse each).
SENSOR_SETS = ("eeg", "meg", "meeg")
#: Sensor sets of a resolution study (the combined set first, then single types).
STUDY_SETS = ("meeg", "meg", "eeg", "mag", "grad")
#: What each sensor set or type is called on screen and in reports.
SENSOR_LABELS = {"eeg": "EEG", "meg": "MEG", "meeg": "MEG+EEG",
                 "mag": "magnetometers", "grad": "gradiometers"}
#: MNE channel types of each sensor set.
SET_TYPES = {"eeg": ("eeg",), "meg": ("mag", "grad"), "meeg": ("eeg", "mag", "grad"),
             "mag": ("mag",), "grad": ("grad",)}

#: Sensors a detection can run on (its ``modality`` option; ``"both"``: every
#: EEG and MEG channel), for parsers and dialogs to offer.
DETECTION_SENSORS = ("eeg", "meg", "mag", "grad", "both")

#: Where a spindle is seen ("" = not known).
VISIBILITY = ("eeg", "meg", "both", "")
#: Visibility labels on screen.
VISIBILITY_LABELS = {"eeg": "EEG", "meg": "MEG", "both": "MEG+EEG", "": "unknown"}
#: Column of spindle tables holding the visibility, and its former name.
VISIBILITY_COLUMN = "visibility"
LEGACY_VISIBILITY_COLUMN = "modality"


def sensor_label(name: str) -> str:
    """On-screen name of a sensor set or type (``"meeg"`` → ``"MEG+EEG"``)."""
    return SENSOR_LABELS.get(name, str(name).upper())


def visibility_of(text) -> str:
    """Read a visibility as written by any version or tool.

    ``"eeg"``, ``"meg"``, ``"both"`` as they are; ``"eeg+meg"``,
    ``"meg+eeg"`` and ``"meeg"`` are ``"both"``; a MEG sensor type is
    ``"meg"``; anything else (``"n/a"``, empty) is ``""``.
    """
    vis = str(text or "").strip().lower()
    if vis in VISIBILITY:
        return vis
    return {"eeg+meg": "both", "meg+eeg": "both", "meeg": "both",
            "mag": "meg", "grad": "meg"}.get(vis, "")
