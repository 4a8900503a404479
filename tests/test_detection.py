"""Spindle detection: A7 on DREAMS, modality visibility, chunking, bad input."""

import logging

import numpy as np
import pytest

from core.detection.detector import (ArraySource, detect, detect_array, iter_detect,
                            make_params, merge_channel_events)
from core.io.dreams import read_dreams_signal
from core.scoring.evaluation import by_event
from core.io.marks import read_spindles
from core.scoring.staging import Hypnogram
from core.utils import Cancelled, SpindleScopeError, run_with_progress

SF = 200.0


def _noise(rng, n, n_ch=1):
    """1/f background, unit RMS."""
    f = np.fft.rfftfreq(n, 1 / SF)
    spec = (rng.standard_normal((n_ch, len(f))) + 1j * rng.standard_normal((n_ch, len(f))))
    spec /= np.maximum(f, 0.5)
    x = np.fft.irfft(spec, n)
    return x / x.std(axis=1, keepdims=True)


def _burst(n, onset, dur, freq, amp):
    t = np.arange(n) / SF
    env = np.where((t >= onset) & (t < onset + dur),
                   np.sin(np.pi * np.clip((t - onset) / dur, 0, 1)) ** 2, 0.0)
    return amp * env * np.sin(2 * np.pi * freq * t)


def simulate(duration=180.0, seed=0):
    """4 EEG (V), 3 MAG (T), 3 GRAD (T/m); spindles seen by EEG, MEG or both."""
    rng = np.random.default_rng(seed)
    n = int(duration * SF)
    truth = []
    t = 5.0
    kinds = ["eeg", "meg", "both"]
    while t < duration - 6:
        truth.append((t, float(rng.uniform(0.8, 1.4)), kinds[len(truth) % 3]))
        t += float(rng.uniform(6, 9))
    eeg = 20e-6 * _noise(rng, n, 4)
    mag = 150e-15 * _noise(rng, n, 3)
    grad = 30e-13 * _noise(rng, n, 3)
    for onset, dur, kind in truth:
        f = rng.uniform(11.5, 14.5)
        if kind in ("eeg", "both"):
            eeg += _burst(n, onset, dur, f, 40e-6)
        if kind in ("meg", "both"):
            mag += _burst(n, onset, dur, f, 400e-15)
            grad += _burst(n, onset, dur, f, 80e-13)
    data = np.concatenate([eeg, mag, grad])
    names = [f"EEG{i}" for i in range(4)] + [f"MAG{i}" for i in range(3)] + \
        [f"GRAD{i}" for i in range(3)]
    types = ["eeg"] * 4 + ["mag"] * 3 + ["grad"] * 3
    return ArraySource(data, SF, names, types), truth


@pytest.fixture(scope="module")
def sim():
    return simulate()


def test_visibility_and_recall_on_simulated_meg_eeg(sim):
    src, truth = sim
    res = detect(src, min_channels=2)
    ref = np.array([(o, d) for o, d, _ in truth])
    agr = by_event(ref, res.events)
    assert agr.recall >= 0.9 and agr.precision >= 0.9
    labels = {i: res.events[j].visibility for i, j, _ in agr.matches}
    correct = sum(labels[i] == truth[i][2] for i in labels)
    assert correct / len(labels) >= 0.9
    ev = res.events[agr.matches[0][1]]
    for key in ("frequency", "n_eeg", "n_mag", "n_grad", "oscillations", "symmetry"):
        assert key in ev.properties
    assert 11 <= ev.properties["frequency"] <= 16
    one = [s for s in res.channel_events if s.channels == ("EEG0",)]
    assert one and {"amplitude", "amplitude_sigma", "sigma_power", "duration",
                    "unit"} <= set(one[0].properties)
    assert one[0].properties["unit"] == "µV" and one[0].status == "candidate"


def test_modality_selection_and_chunking_give_same_events(sim):
    src, truth = sim
    eeg_only = detect(src, modality="eeg")
    assert {s.visibility for s in eeg_only.events} == {"eeg"}
    assert eeg_only.channels == ["EEG0", "EEG1", "EEG2", "EEG3"]
    small = detect(src, modality="eeg", chunk_samples=4 * 12000)  # 60-s chunks
    assert [(s.onset, s.duration, s.channels) for s in small.channel_events] == \
        [(s.onset, s.duration, s.channels) for s in eeg_only.channel_events]
    # channels analysed in groups (several passes over the file): same result
    both = detect(src)
    grouped = detect(src, channels_per_pass=3)
    assert [(s.onset, s.duration, s.channels) for s in grouped.channel_events] == \
        [(s.onset, s.duration, s.channels) for s in both.channel_events]
    assert [(s.onset, s.visibility) for s in grouped.events] == \
        [(s.onset, s.visibility) for s in both.events]
    meg = detect(src, modality="meg", picks=["MAG0", "GRAD0", "EEG0"])
    assert meg.channels == ["MAG0", "GRAD0"]
    assert {s.visibility for s in meg.events} == {"meg"}


def test_progress_and_cancel(sim):
    src, _ = sim
    seen = []
    detect(src, modality="eeg", progress=lambda p: seen.append(p.fraction))
    assert seen[-1] == 1.0 and seen == sorted(seen)
    with pytest.raises(Cancelled):
        run_with_progress(iter_detect(src, modality="eeg"), lambda p: False)


def test_stage_restriction(sim):
    src, truth = sim
    hyp = Hypnogram(["W", "N2", "N2", "R", "N3", "N2"], 30)
    res = detect(src, modality="eeg", hypnogram=hyp, stages=["N2"])
    assert res.events and all(hyp.stage_at(s.onset) == "N2" and
                              hyp.stage_at(s.end - 1e-3) == "N2" for s in res.events)
    with pytest.raises(SpindleScopeError, match="no epoch of stage N3: there is nothing"):
        detect(src, hypnogram=Hypnogram(["W", "N2"] * 3, 30), stages=["N3"])
    bad = Hypnogram(["N2"] * 10, 30)
    with pytest.raises(SpindleScopeError, match=r"hypnogram is longer than the recording: 10 epochs of 30 s = 300 s, but the recording lasts 180 s"):
        detect(src, hypnogram=bad)


def test_yasa_style_detector(sim):
    src, truth = sim
    res = detect(src, method="yasa", modality="eeg")
    ref = np.array([(o, d) for o, d, k in truth if k != "meg"])
    agr = by_event(ref, res.events)
    assert agr.recall >= 0.8 and agr.precision >= 0.8
    assert make_params("yasa").rel_pow == 0.2 and make_params("a7").corr == 0.69
    with pytest.raises(SpindleScopeError, match="Unknown parameter"):
        make_params("a7", threshold=3)


def test_nan_and_flat_channels(caplog):
    src, truth = simulate(duration=90, seed=1)
    data = src.data[:4].copy()
    data[1] = 0.0                      # flat
    data[2] = np.nan                   # all NaN
    data[3, 2000:2600] = np.nan        # a NaN gap: windows there are skipped
    with caplog.at_level(logging.WARNING, logger="spindlescope"):
        res = detect_array(data, SF, ch_names=["A", "B", "C", "D"])
    assert res.skipped == {"B": "flat signal (constant value)",
                           "C": "no finite sample (all NaN)"}
    assert "skips channel B: flat" in caplog.text and "skips channel C" in caplog.text
    assert res.channels == ["A", "D"]
    assert not [s for s in res.channel_events if s.channels == ("D",)
                and s.onset < 13.0 and s.end > 10.0]
    with pytest.raises(SpindleScopeError, match="No usable channel.*B: flat.*C: no finite"):
        detect_array(data[1:3], SF, ch_names=["B", "C"])


def test_sampling_rate_checks(dreams_dir):
    x, sf, ch = read_dreams_signal(dreams_dir / "excerpt3.txt")
    assert sf == 50.0 and ch == "C3-A1"
    res = detect_array(x, sf)   # 50 Hz: sigma 11-16 Hz below Nyquist 25 Hz
    assert 20 <= len(res.events) <= 80
    assert all(10 <= s.properties["frequency"] <= 17 for s in res.events)
    with pytest.raises(SpindleScopeError, match=r"30 Hz is too low .* Nyquist frequency 15 Hz"):
        detect_array(x[::5][:5000], 30.0)
    with pytest.raises(SpindleScopeError, match="modality"):
        detect_array(x, sf, modality="ecog")
    with pytest.raises(SpindleScopeError, match="no channel|No channel"):
        detect_array(x, sf, modality="meg")


# By-event F1 (IoU >= 0.2) against expert 1 over the whole 30-min excerpts, as
# in benchmarks/bench_detection_dreams.py, which measured (same run, this
# machine, broadband signal DC-30 Hz) A7 0.570 / 0.696 / 0.208 / 0.427 (mean
# 0.475) against YASA's default spindles_detect 0.395 / 0.439 / 0.348 / 0.400
# (mean 0.395). Expert 1 scored only the first ~1000 s (no mark after 993 s);
# over that span A7 reaches mean 0.629 (YASA 0.527). Excerpt 3 is low because
# expert 1 marked 5 spindles there (expert 2: 17 in the same span); against
# expert 2, A7 scores 0.644 on it. The bounds leave ~0.02 for platform noise.
EXPECTED_F1 = {1: 0.55, 2: 0.67, 3: 0.18, 4: 0.40}


def test_a7_f1_on_dreams(dreams_dir):
    full, scored = [], []
    for i in (1, 2, 3, 4):
        x, sf, _ = read_dreams_signal(dreams_dir / f"excerpt{i}.txt")
        ref = read_spindles(dreams_dir / f"Visual_scoring1_excerpt{i}.txt")
        res = detect_array(x, sf)
        f1 = by_event(ref, res.events, iou=0.2).f1
        assert f1 >= EXPECTED_F1[i], (i, f1)
        full.append(f1)
        scored.append(by_event(ref, [s for s in res.events if s.onset < 1000]).f1)
    assert np.mean(full) >= 0.455
    assert np.mean(scored) >= 0.61


def test_a7_does_not_depend_on_sampling_rate(dreams_dir):
    """The same night at 200 Hz and decimated to 50 Hz gives the same spindles.

    Measured: excerpt 2 (200 Hz) and its 50-Hz version agree at F1 0.95 (the
    rest is window-sum granularity: 15 samples per 0.3-s window at 50 Hz);
    F1 against expert 1 0.696 vs 0.682.
    """
    from scipy.signal import resample_poly

    x, sf, _ = read_dreams_signal(dreams_dir / "excerpt2.txt")
    ref = read_spindles(dreams_dir / "Visual_scoring1_excerpt2.txt")
    native = detect_array(x, sf).events
    low = detect_array(resample_poly(x, 1, 4), sf / 4).events
    assert abs(len(low) - len(native)) <= 0.1 * len(native)
    assert by_event(native, low).f1 >= 0.9
    assert abs(by_event(ref, low).f1 - by_event(ref, native).f1) <= 0.04


def test_a7_ignores_activity_above_30_hz(dreams_dir):
    """Line noise (50 Hz) leaves A7's detections unchanged: the broadband
    signal is DC-30 Hz whatever the sampling rate, as in the A7 release.

    With the unfiltered signal (``broad=None``, whose bandwidth grows with the
    sampling rate) the same noise lowers the sigma correlation and covariance:
    measured on excerpt 2, 10 µV of 50-Hz noise cut A7 from 75 to 27
    detections (F1 against expert 1 0.696 -> 0.483).
    """
    x, sf, _ = read_dreams_signal(dreams_dir / "excerpt2.txt")
    noisy = x + 10e-6 * np.sin(2 * np.pi * 50 * np.arange(len(x)) / sf)
    clean = detect_array(x, sf).events
    hum = detect_array(noisy, sf).events
    assert len(clean) >= 60
    assert [(s.onset, s.duration) for s in hum] == [(s.onset, s.duration) for s in clean]
    raw = detect_array(noisy, sf, params={"broad": None}).events
    assert len(raw) < 0.5 * len(clean)
    assert make_params("a7").broad == (None, 30.0)
    with pytest.raises(SpindleScopeError, match="Invalid broad band"):
        make_params("a7", broad=(20, 10))


def test_merge_channel_events_counts_modalities(sim):
    src, _ = sim
    res = detect(src)
    ev = merge_channel_events(res.channel_events, min_channels=4)
    assert all(e.properties["n_eeg"] >= 4 or e.properties["n_mag"] + e.properties["n_grad"] >= 4
               for e in ev)
    assert len(ev) <= len(res.events)


def _a7_scores(rec, hyp, types):
    """How close each channel comes to an A7 detection, per 0.1-s segment.

    The A7 rule detects where all four criteria exceed their thresholds, so
    ``min(criterion / threshold)`` over the four (adaptive absolute power z,
    relative power z, covariance z, correlation) is above 1 exactly where a
    channel may detect, with the same baselines (N2/N3 windows, 30-s
    contexts) as :func:`core.detection.detector.detect` in a mixed EEG+MEG run.

    Returns
    -------
    scores : array, shape (n_channels, n_segments)
    step : float
        Segment length (s).
    """
    from dataclasses import replace

    from core.detection.detector import UNIT_SCALE, _Geometry, _window_validity, make_params
    from core.detection.dsp import (_a7_chunk_features, _context_stats,
                                    _segment_valid, _to_segments)

    p = replace(make_params("a7"), abs_mode="adaptive")
    geom = _Geometry(rec.n_times, rec.sfreq, p.window, p.step)
    valid = _window_validity(geom, hyp, ("N2", "N3"), rec.duration)
    names = [n for n, t in zip(rec.ch_names, rec.ch_types) if t in types]
    scale = np.array([UNIT_SCALE[t] for t in rec.ch_types if t in types])
    x = rec.get_chunk(0, rec.duration, names) * scale[:, None]
    abs_ms, rel, cov, corr = _a7_chunk_features(x, rec.sfreq, geom.starts(0, geom.n_win),
                                                p, None)[:4]
    n_ctx, n_over = int(round(p.context / p.step)), geom.n_over
    seg_ok = _segment_valid(valid, n_over)
    out = np.empty((len(names), geom.n_seg))
    for i in range(len(names)):
        crit = []
        for feat, thr in ((rel[i], p.rel_pow), (cov[i], p.cov)):
            m, sd = _context_stats(feat.astype(float), valid, n_ctx, p.percentiles)
            crit.append(_to_segments((feat - m) / sd, n_over) / thr)
        crit.append(_to_segments(corr[i].astype(float), n_over) / p.corr)
        la = np.log10(abs_ms[i][valid])
        lo, hi = np.percentile(la, p.percentiles)
        la = la[(la >= lo) & (la <= hi)]
        crit.append((np.log10(_to_segments(abs_ms[i], n_over)) - la.mean())
                    / la.std(ddof=1) / p.abs_pow_z)
        out[i] = np.where(seg_ok, np.minimum.reduce(crit), -np.inf)
    return out, p.step


def test_demo_recording_found_with_visibility():
    """Acceptance: >= 90 % of the demo's spindles, precision >= 0.8, visibility.

    The simulation calls a spindle visible in a modality when its sigma-band
    peak reaches 5 background SDs on the best channel: diffuse spindles reach
    8-12 SDs in EEG and 2.5-3.9 in MEG, focal ones 13-16 in MEG and at most
    ``focal.max_eeg_snr`` in EEG. The detector labels by detections on >= 2 %
    of a modality's channels (2 of 60 EEG, 7 of 306 MEG). Outside focal
    spindles it may claim a modality the simulation leaves out only where the
    spindle reaches 3 SDs there; extra claims stay rare (<= 10 %).
    """
    from core.io.recording import open_recording
    from core.session.simulate import demo_paths
    from core.io.hypnograms import read_hypnogram

    paths = demo_paths()
    rec = open_recording(paths.raw)
    truth = list(read_spindles(paths.spindles))
    hyp = read_hypnogram(paths.hypnogram, recording_duration=rec.duration)
    res = detect(rec, hypnogram=hyp)
    agr = by_event(truth, res.events)
    assert agr.recall >= 0.9 and agr.precision >= 0.8
    assert all(s.visibility in ("eeg", "meg", "both") for s in res.events)
    mods = {"eeg": {"eeg"}, "meg": {"meg"}, "both": {"eeg", "meg"}, "": set()}
    extra_claims = 0
    for i, j, _ in agr.matches:
        if truth[i].visibility:
            extra = mods[res.events[j].visibility] - mods[truth[i].visibility]
            if truth[i].properties["kind"] != "focal":
                for m in extra:
                    assert truth[i].properties[f"snr_{m}"] >= 3.0, (truth[i], res.events[j])
            extra_claims += bool(extra)
    assert extra_claims <= 0.1 * agr.tp
    assert sum(res.events[j].visibility == "both" for _, j, _ in agr.matches) >= 0.3 * agr.tp
    # the claim the demo embodies (issue 11): at least 80 % of the focal
    # (core) spindles are labelled MEG-only by detection, the diffuse
    # (matrix) spindles EEG-only, mixed ones both
    label = {i: res.events[j].visibility for i, j, _ in agr.matches}
    kinds = [t.properties["kind"] for t in truth]
    for kind, vis in (("focal", "meg"), ("diffuse", "eeg"), ("mixed", "both")):
        idx = [i for i, k in enumerate(kinds) if k == kind]
        share = sum(label.get(i) == vis for i in idx) / len(idx)
        assert share >= 0.8, (kind, share)


def test_demo_detection_margins():
    """The demo's labels hold with a margin, not by a hair (issue 11).

    A modality sees a spindle when >= 2 EEG (>= 7 MEG) channels detect it,
    i.e. when the 2nd (7th) best channel's A7 score (``_a7_scores``: 1 = at
    the threshold) exceeds 1 within the spindle. Measured on the demo
    (EEG 2nd-best / MEG 7th-best): focal 0.78-0.93 / 1.08-1.17, diffuse
    1.13-1.31 / 0.83-0.97, mixed 1.19-1.32 / 1.06-1.18 (the focal patches'
    rotating gate lowers their mean power per peak: the MEG margins are
    narrower than the ungated demo's 1.12-1.31 and 1.09-1.23).
    Asserted with room to spare, so that a numeric wobble (another BLAS, a
    rebuilt BEM) cannot move the >= 80 % labels: at least 8 of 9 focal
    spindles stay 5 % below the EEG threshold and every one clears the MEG
    threshold by >= 5 %.
    """
    from core.io.recording import open_recording
    from core.session.simulate import demo_paths
    from core.io.hypnograms import read_hypnogram

    paths = demo_paths()
    rec = open_recording(paths.raw)
    truth = list(read_spindles(paths.spindles))
    hyp = read_hypnogram(paths.hypnogram, recording_duration=rec.duration)
    eeg, step = _a7_scores(rec, hyp, ("eeg",))
    meg, _ = _a7_scores(rec, hyp, ("mag", "grad"))
    # the score is the detector's rule: every channel detection passes 1
    res = detect(rec, hypnogram=hyp)
    names = {t: [n for n, k in zip(rec.ch_names, rec.ch_types) if k in t]
             for t in (("eeg",), ("mag", "grad"))}
    for ev in res.channel_events:
        t = ("eeg",) if ev.properties["channel_type"] == "eeg" else ("mag", "grad")
        sc = (eeg if t == ("eeg",) else meg)[names[t].index(ev.channels[0])]
        a = int(round(ev.onset / step))
        assert sc[a:a + int(round(ev.duration / step))].max() > 1 - 1e-6, ev
    stat = {"focal": [], "diffuse": [], "mixed": []}
    for t in truth:
        a = int(t.onset / step)
        b = int(np.ceil((t.onset + t.duration) / step)) + 1
        e = np.sort(eeg[:, a:b].max(1))[::-1][1]   # 2nd best of 60 EEG
        m = np.sort(meg[:, a:b].max(1))[::-1][6]   # 7th best of 306 MEG
        stat[t.properties["kind"]].append((e, m))
    focal, diffuse, mixed = (np.array(stat[k]) for k in ("focal", "diffuse", "mixed"))
    assert focal[:, 0].max() < 1.0 and (focal[:, 0] <= 0.95).sum() >= 8, focal[:, 0]
    assert focal[:, 1].min() >= 1.05, focal[:, 1]        # MEG: clearly above
    assert diffuse[:, 0].min() >= 1.1, diffuse[:, 0]
    assert diffuse[:, 1].max() < 1.0 and (diffuse[:, 1] <= 0.95).sum() >= 8, diffuse[:, 1]
    assert mixed[:, 0].min() >= 1.1 and mixed[:, 1].min() >= 1.05, mixed
