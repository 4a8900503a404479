"""One filter design, one Nyquist check, one hypnogram-length check, one JSON
encoder, one progress re-scaling helper (issue #12, "Scattered plumbing")."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from core.utils import SpindleScopeError
from core.utils import dsp

SF = 200.0


def _noise(n_ch=3, n=4000, seed=0):
    return np.random.default_rng(seed).standard_normal((n_ch, n))


def test_butter_sos_is_scipy_butterworth():
    ref = signal.butter(4, (11.0, 16.0), btype="bandpass", fs=SF, output="sos")
    np.testing.assert_array_equal(dsp.butter_sos(4, (11.0, 16.0), "bandpass", SF), ref)
    x = _noise()
    np.testing.assert_array_equal(dsp.bandpass(x, SF, (11.0, 16.0)),
                                  signal.sosfiltfilt(ref, x, axis=-1))


def test_inverse_and_simulation_bandpass_are_the_utils_one():
    from core.session.simulate import SIGMA_BAND, _sigma_filter
    from core.sources.inverse import _bandpass

    x = _noise()
    np.testing.assert_array_equal(_bandpass(x, SF, (11.0, 16.0)),
                                  dsp.bandpass(x, SF, (11.0, 16.0), order=4))
    np.testing.assert_array_equal(_sigma_filter(x, SF), dsp.bandpass(x, SF, SIGMA_BAND))


def test_page_display_filters_are_the_utils_design():
    from core.io.page import NYQUIST_CAP, _sos

    for kind, freqs, ref in [
            ("band", (0.3, 35.0), dsp.butter_sos(2, (0.3, 35.0), "bandpass", SF)),
            ("band", (0.3, None), dsp.butter_sos(2, 0.3, "highpass", SF)),
            ("band", (None, 35.0), dsp.butter_sos(4, 35.0, "lowpass", SF)),
            ("band", (None, 99.0), dsp.butter_sos(4, NYQUIST_CAP * SF / 2, "lowpass", SF)),
            ("notch", 50.0, dsp.butter_sos(2, (49.0, 51.0), "bandstop", SF))]:
        np.testing.assert_array_equal(_sos(kind, freqs, SF), ref.astype(np.float32))
    # same numbers as the normalised-frequency design the page used before
    np.testing.assert_allclose(
        _sos("band", (0.3, 35.0), SF),
        signal.butter(2, [0.3 / 100, 35.0 / 100], "bandpass", output="sos"), rtol=1e-6)
    assert _sos("notch", 99.5, SF) is None  # notch band past Nyquist: no filter


def test_detection_filter_is_the_utils_design():
    from core.detection.dsp import _fft_filter, _zero_phase_response

    n_fft = 4096
    freqs = np.fft.rfftfreq(n_fft, 1 / SF)
    hp = dsp.zero_phase_gain(dsp.butter_sos(4, 11.0, "highpass", SF), freqs, SF)
    lp = dsp.zero_phase_gain(dsp.butter_sos(4, 16.0, "lowpass", SF), freqs, SF)
    np.testing.assert_allclose(_zero_phase_response(n_fft, SF, (11.0, 16.0), 4), hp * lp,
                               rtol=1e-12, atol=1e-15)
    # the FFT filter equals the cascade of the same sections run forward-backward
    x = _noise(n=20000)
    got = _fft_filter(x, SF, [(11.0, 16.0)], 4)[0]
    ref = signal.sosfiltfilt(dsp.butter_sos(4, 16.0, "lowpass", SF), signal.sosfiltfilt(
        dsp.butter_sos(4, 11.0, "highpass", SF), x, axis=-1), axis=-1)
    mid = slice(4000, 16000)  # away from the edges (padding differs)
    assert np.max(np.abs(got[:, mid] - ref[:, mid])) < 1e-3 * np.std(ref[:, mid])


def test_one_nyquist_message_everywhere():
    from core.detection.params import check_sfreq
    from core.sources.inverse import _bandpass

    msgs = []
    for call in (lambda: dsp.check_nyquist((11.0, 16.0), 30.0, "the band"),
                 lambda: dsp.bandpass(_noise(), 30.0, (11.0, 16.0)),
                 lambda: _bandpass(_noise(), 30.0, (11.0, 16.0)),
                 lambda: check_sfreq(30.0, 16.0)):
        with pytest.raises(SpindleScopeError, match=r"30 Hz is too low .* Nyquist frequency "
                                                    r"15 Hz must lie above .* 16 Hz") as exc:
            call()
        msgs.append(str(exc.value))
    assert "at least at 33 Hz" in msgs[0]
    dsp.check_nyquist((11.0, 16.0), 32.5, "the band")  # 16.25 Hz Nyquist: fine
    with pytest.raises(SpindleScopeError):
        dsp.check_nyquist(16.0, 32.0)  # edge exactly at Nyquist is refused


# --------------------------------------------------------------------------
# One hypnogram-length check (file reader, Session.set_hypnogram, detection)
# --------------------------------------------------------------------------

def _recording_300s():
    import mne

    from core.io.recording import Recording

    sf = 100.0
    x = np.random.default_rng(1).standard_normal((2, int(300 * sf))) * 20e-6
    info = mne.create_info(["C3", "C4"], sf, "eeg")
    return Recording(mne.io.RawArray(x, info, verbose="error"))


@pytest.mark.parametrize("n_epochs, ok", [(9, False), (10, True), (11, False)])
def test_hypnogram_length_same_verdict_on_all_paths(tmp_path, n_epochs, ok):
    from core.detection.detector import detect_array
    from core.io.hypnograms import read_hypnogram
    from core.scoring.staging import Hypnogram
    from core.session.session import Session

    rec = _recording_300s()
    assert rec.duration == pytest.approx(300.0, abs=0.011)
    path = tmp_path / "hyp.txt"
    path.write_text("N2\n" * n_epochs)
    session = Session()
    session.set_recording(rec)
    x = rec.get_chunk(0, rec.duration, rec.ch_names)
    paths = {
        "file": lambda: read_hypnogram(path, epoch_length=30,
                                       recording_duration=rec.duration),
        "session": lambda: session.set_hypnogram(Hypnogram(["N2"] * n_epochs, 30)),
        "detection": lambda: detect_array(x, rec.sfreq, ch_names=rec.ch_names,
                                          hypnogram=Hypnogram(["N2"] * n_epochs, 30),
                                          stages=["N2"]),
    }
    kind = "longer" if n_epochs > 10 else "shorter"
    for name, call in paths.items():
        if ok:
            call()
        else:
            with pytest.raises(SpindleScopeError,
                               match=rf"hypnogram.* is {kind} than the recording: "
                                     rf"{n_epochs} epochs of 30 s = {30 * n_epochs} s, "
                                     rf"but the recording lasts 300 s"):
                call()
    # a refused hypnogram leaves the session's (unscored) one in place
    assert list(session.hypnogram.stages) == (["N2"] if ok else ["?"]) * 10


# --------------------------------------------------------------------------
# One JSON encoder, one progress re-scaling helper
# --------------------------------------------------------------------------

def test_one_json_encoder():
    import json
    from pathlib import Path

    from core.session import autosave, session
    from core.utils import dumps_json, json_default

    obj = {"f": np.float32(1.5), "i": np.int64(7), "a": np.arange(3.0),
           "p": Path("/tmp/x.fif"), "s": {3, 1, 2}, "b": np.bool_(True)}
    assert json.loads(dumps_json(obj)) == {"f": 1.5, "i": 7, "a": [0.0, 1.0, 2.0],
                                           "p": "/tmp/x.fif", "s": [1, 2, 3], "b": True}
    with pytest.raises(TypeError, match="object is not JSON serialisable"):
        dumps_json({"x": object()})
    assert session._json_default is json_default
    # the autosave journal uses the same encoder, falling back to text
    assert autosave._jsonable(np.float64(2.5)) == 2.5
    assert autosave._jsonable(Path("/a")) == "/a"
    assert autosave._jsonable(object).startswith("<class")


def test_rescale_progress_maps_into_parent_range():
    from core.utils import Progress, rescale_progress, run_with_progress

    def child(n):
        for k in range(n + 1):
            yield Progress(k, n, f"step {k}")
        return "result"

    seen = []

    def parent():
        out = yield from rescale_progress(child(3), 10, 6, 20, "child: ")
        return out

    assert run_with_progress(parent(), seen.append) == "result"
    assert [p.done for p in seen] == [10, 12, 14, 16]
    assert {p.total for p in seen} == {20}
    assert seen[1].message == "child: step 1"
    # a child whose total equals its range maps one to one (integer arithmetic)
    seen.clear()
    run_with_progress(rescale_progress(child(7), 5, 7, 12), seen.append)
    assert [p.done for p in seen] == list(range(5, 13))


# --------------------------------------------------------------------------
# One inverse stack: resolution uses the inverse helpers and the Maxwell test
# --------------------------------------------------------------------------

def test_one_maxwell_test():
    import mne

    import core.resolution.matrix as rm
    from core.io.recording import Recording, is_maxfiltered

    info = mne.create_info(["MEG0111", "EEG001"], 100.0, ["mag", "eeg"])
    raw = mne.io.RawArray(np.zeros((2, 100)), info, verbose="error")
    assert not is_maxfiltered(info) and not Recording(raw).is_maxfiltered
    with raw.info._unlock():
        raw.info["proc_history"] = [{"max_info": {"sss_info": {"nfree": 80}}}]
    assert is_maxfiltered(raw.info) and Recording(raw).is_maxfiltered
    assert rm.is_maxfiltered is is_maxfiltered
    assert not hasattr(rm, "_is_maxfiltered")


def test_one_average_reference_helper():
    import mne

    import core.resolution.matrix as rm
    from core.sources.inverse import has_eeg_average_ref, modality_info, with_eeg_average_ref

    info = mne.create_info(["Fz", "Cz", "Pz", "Oz"], 100.0, "eeg")
    pos = {n: np.array([0.01 * k, 0.05, 0.08]) for k, n in enumerate(info["ch_names"])}
    info.set_montage(mne.channels.make_dig_montage(pos, coord_frame="head"))
    assert not has_eeg_average_ref(info)
    ref = with_eeg_average_ref(info)
    assert has_eeg_average_ref(ref) and not has_eeg_average_ref(info)  # a copy
    proj = ref["projs"][0]
    assert not proj["active"]
    np.testing.assert_allclose(proj["data"]["data"], np.full((1, 4), 0.5))
    assert with_eeg_average_ref(ref) is ref  # already there: unchanged
    sub = modality_info(info, "eeg")
    np.testing.assert_array_equal(sub["projs"][0]["data"]["data"], proj["data"]["data"])
    assert rm.with_eeg_average_ref is with_eeg_average_ref
    assert not hasattr(rm, "_ensure_eeg_reference")



@pytest.mark.parametrize("method, pick_ori", [("dSPM", None), ("sLORETA", "normal")])
def test_inverse_kernel_is_mnes_operator(sample_problem, method, pick_ori):
    """The shared identity-kernel helper gives MNE's apply_inverse_raw numbers."""
    import warnings

    import mne

    from core.sources.inverse import (InverseSettings, inverse_kernel, make_inverse,
                                      modality_info)

    rec, fwd, cov = sample_problem
    settings = InverseSettings(method=method)
    inv = make_inverse(rec.info, fwd, cov, "eeg", settings,
                       maxfiltered=rec.is_maxfiltered)
    k = inverse_kernel(inv, rec.info, "eeg", settings, pick_ori)
    sub = modality_info(rec.info, "eeg")
    raw = mne.io.RawArray(np.eye(sub["nchan"]), sub, verbose="error")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stc = mne.minimum_norm.apply_inverse_raw(
            raw, inv, settings.lambda2, method,
            pick_ori="vector" if pick_ori is None else pick_ori, verbose="error")
    np.testing.assert_allclose(k.kernel, stc.data.reshape(-1, sub["nchan"]), rtol=1e-10,
                               atol=1e-12 * np.abs(stc.data).max())
    assert k.n_ori == (3 if pick_ori is None else 1)


def test_parallel_map_order_errors_and_nesting():
    """Results in input order, the first error raised, and no deadlock when a
    helper thread itself maps (its items run on the calling thread)."""
    import threading

    from core.utils import parallel_map

    assert parallel_map(lambda x: x * x, range(50)) == [x * x for x in range(50)]
    assert parallel_map(lambda x: x, []) == []
    threads = set()

    def record(x):
        threads.add(threading.get_ident())
        return parallel_map(lambda y: y + x, range(20))   # nested

    out = parallel_map(record, range(8))
    assert out == [[y + x for y in range(20)] for x in range(8)]
    with pytest.raises(ZeroDivisionError):
        parallel_map(lambda x: 1 / (x - 5), range(10))
    assert parallel_map(lambda x: -x, range(5), parallel=False) == [0, -1, -2, -3, -4]
