"""Page reading in core: the direct FIF reader equals MNE's, the read lock."""

import threading
import warnings

import numpy as np
import pytest
from gui_fixtures import small_fif  # noqa: F401

mne = pytest.importorskip("mne")


def _assert_same(rec, start, stop, idx):
    """read_into (float32) equals raw.get_data to float32 precision, per row."""
    out = np.full((len(idx), stop - start), np.nan, np.float32)
    got = rec.read_into(start, stop, idx, out)
    assert got is out
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Loading an EDF with mixed")
        ref = rec.raw.get_data(picks=np.asarray(idx), start=start, stop=stop)
    scale = np.abs(ref).max(axis=1, keepdims=True)
    scale[scale == 0] = 1.0
    err = np.abs(out.astype(np.float64) - ref) / scale
    assert err.max() < 2e-7, err.max()
    return out


@pytest.fixture(scope="module")
def sss_fif(sample_dir):
    path = sample_dir / "SSS" / "sample_audvis_trunc_raw_sss.fif"
    if not path.exists():
        pytest.skip("sample SSS file absent")
    return path


def test_direct_fif_equals_mne_on_sample(sss_fif):
    from core.io.fif_direct import FifDirect
    from core.io.recording import open_recording

    rec = open_recording(sss_fif)          # 376 channels, first_samp 12900
    assert rec.raw.first_samp > 0 and FifDirect.for_raw(rec.raw) is not None
    n = rec.n_times
    all_idx = np.arange(len(rec.ch_names))
    _assert_same(rec, 0, n, all_idx)
    _assert_same(rec, n - 1, n, all_idx)
    idx = np.random.default_rng(0).permutation(all_idx)[:37]   # out of order
    _assert_same(rec, 17, n - 5, idx)
    assert rec._direct is not None   # those reads went the direct way


def test_direct_fif_unit_fix(shared_data):
    from core.io.fif_direct import FifDirect
    from core.io.recording import open_recording

    path = shared_data / "formats" / "fif" / "test_move_anon_erm_raw.fif"
    if not path.exists():
        pytest.skip("test FIF absent")
    rec = open_recording(path)
    assert FifDirect.for_raw(rec.raw) is not None
    idx = np.arange(len(rec.ch_names))
    before = _assert_same(rec, 100, rec.n_times - 1, idx).copy()
    rec._apply_scale({0: 1e3})  # a unit fix multiplies the calibration
    after = _assert_same(rec, 100, rec.n_times - 1, idx)
    np.testing.assert_allclose(after[0], before[0] * 1e3, rtol=1e-6)
    np.testing.assert_array_equal(after[1:], before[1:])


def _saved(raw, path, **kw):
    raw.save(path, overwrite=True, verbose="error", **kw)
    return path


@pytest.fixture(scope="module")
def long_real(sss_fif):
    """The sample's real data, repeated to 60 s (every third channel)."""
    src = mne.io.read_raw_fif(sss_fif, verbose="error")
    src.pick(src.ch_names[::3])
    return mne.concatenate_raws([src.copy() for _ in range(60)], verbose="error")


def test_split_short_and_compressed_fif(long_real, tmp_path):
    """Split files and int16 buffers are read directly; .gz falls back to MNE."""
    from core.io.fif_direct import FifDirect
    from core.io.recording import Recording, open_recording

    split = _saved(long_real, tmp_path / "split_raw.fif", split_size="5MB",
                   buffer_size_sec=0.7)
    rec = open_recording(split)
    assert len(rec.raw.filenames) > 2
    assert len(rec.raw._raw_extras[0]["ent"]) > 2
    assert FifDirect.for_raw(rec.raw) is not None
    idx = np.arange(len(rec.ch_names))
    borders = np.cumsum(rec.raw._raw_lengths)[:-1]   # across split-file borders
    _assert_same(rec, int(borders[0]) - 500, int(borders[1]) + 500, idx)
    _assert_same(rec, 0, rec.n_times, idx[::-2])
    assert rec._direct is not None

    short = _saved(long_real, tmp_path / "short_raw.fif", fmt="short",
                   buffer_size_sec=0.5)
    rec = open_recording(short)
    assert rec.raw._raw_extras[0]["ent"][0].type in (2, 16)  # 16-bit integers
    assert FifDirect.for_raw(rec.raw) is not None
    _assert_same(rec, 10, rec.n_times - 10, idx)

    gz = _saved(long_real, tmp_path / "zipped_raw.fif.gz")
    rec = open_recording(gz)
    assert FifDirect.for_raw(rec.raw) is None       # compressed: MNE reads it
    _assert_same(rec, 500, 3000, idx)
    assert rec._direct is None

    raw = mne.io.read_raw_fif(split, verbose="error")
    raw.pick(raw.ch_names[5:40:2])                   # picked before any read
    rec = Recording(raw, split)
    _assert_same(rec, 700, 5000, np.arange(len(rec.ch_names)))
    assert rec._direct is not None


def test_projected_fif_falls_back(sss_fif):
    from core.io.recording import Recording

    raw = mne.io.read_raw_fif(sss_fif, verbose="error")
    assert raw.info["projs"]
    raw.apply_proj(verbose="error")                  # a projector on a lazy raw
    rec = Recording(raw, sss_fif)
    out = _assert_same(rec, 0, 300, np.arange(len(rec.ch_names)))
    plain = mne.io.read_raw_fif(sss_fif, verbose="error").get_data(stop=300)
    assert np.abs(out - plain).max() > 1e-3 * np.abs(plain).max()  # projected


@pytest.mark.parametrize("name", ["short_psg.edf", "test_reduced.edf"])
def test_edf_pages_equal_mne(shared_data, name):
    from core.io.recording import open_recording

    path = shared_data / "formats" / "edf" / name
    if not path.exists():
        pytest.skip(f"{name} absent")
    rec = open_recording(path)
    sf = rec.sfreq
    # the same channels of each rate, as MNE gives them (mixed rates resampled)
    for idx in (np.arange(len(rec.ch_names)), np.array([0])):
        _assert_same(rec, int(min(3 * sf, rec.n_times // 4)),
                     int(min(rec.n_times, 40 * sf)), idx)


def _held_elsewhere(lock):
    """Whether another thread holds ``lock`` (tried from a fresh thread)."""
    got = []

    def probe():
        got.append(lock.acquire(blocking=False))
        if got[0]:
            lock.release()

    th = threading.Thread(target=probe)
    th.start()
    th.join()
    return not got[0]


def test_readers_share_one_lock(small_fif):  # noqa: F811
    """Pages, detection-style reads and montage rows all read under the lock."""
    from core.io.page import PageRequest, compute_page, read_lock
    from core.io.recording import open_recording

    rec = open_recording(small_fif)
    assert read_lock(rec) is rec.read_lock
    held = []
    orig = rec.raw._read_segment
    rec.raw._read_segment = lambda *a, **kw: (
        held.append(_held_elsewhere(rec.read_lock)) or orig(*a, **kw))
    rec._direct = None                       # MNE's reader (spied) for the pages
    compute_page(rec, PageRequest(1, 0.0, 10.0, (0, 1), 200, lowpass=30.0))
    rec.get_samples(0, 100, [0, 1])          # detection, sources, spectrogram
    rec.get_chunk(0.0, 1.0, [0])             # inverse
    assert len(held) >= 3 and all(held), held
    assert not _held_elsewhere(rec.read_lock)   # released afterwards
    with rec.read_lock:                      # re-entrant for its holder
        assert rec.get_samples(0, 10, [0]).shape == (1, 10)


def test_zero_phase_equals_sosfiltfilt():
    """The frequency-domain filter equals scipy's forward-backward IIR filter."""
    from scipy import signal

    from core.io.page import _sos, _zero_phase

    rate = 250.0
    rng = np.random.default_rng(3)
    t = np.arange(int(60 * rate)) / rate
    x = (np.cumsum(rng.standard_normal((4, t.size)), axis=1) * 0.05
         + np.sin(2 * np.pi * 13 * t) + 0.5 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    band, notch, sig = (_sos("band", (0.3, 35.0), rate), _sos("notch", 50.0, rate),
                        _sos("band", (11.0, 16.0), rate))
    y, s = _zero_phase(x, [band, notch], sig, int(2 * rate))
    assert y.dtype == s.dtype == np.float32 and y.shape == s.shape == x.shape
    x64 = x.astype(np.float64)
    ref = signal.sosfiltfilt(notch.astype(float), signal.sosfiltfilt(band.astype(float), x64))
    ref_s = signal.sosfiltfilt(sig.astype(float), x64)
    inner = slice(int(15 * rate), -int(15 * rate))   # away from the ends (edge
    # transients of the 0.3-Hz high-pass differ: sosfiltfilt pads 15 samples)
    for got, want in ((y, ref), (s, ref_s)):
        rng_ = np.ptp(want[:, inner], axis=1, keepdims=True)
        assert (np.abs(got[:, inner] - want[:, inner]) / rng_).max() < 2e-3
    # the 50-Hz hum is notched out, the 13-Hz rhythm kept
    spec = np.abs(np.fft.rfft(y[:, inner], axis=1)).mean(axis=0)
    f = np.fft.rfftfreq(y[:, inner].shape[1], 1 / rate)
    assert spec[np.argmin(np.abs(f - 50))] < 0.01 * spec[np.argmin(np.abs(f - 13))]
    # no filter at all: the rows come back untouched
    same, none = _zero_phase(x, [None], None, 10)
    assert same is x and none is None


def test_big_pages_on_two_threads_equal_one_thread(long_real, tmp_path, monkeypatch):
    """The threaded read and filter stages give the page the serial ones give,
    bit for bit, with a gap row, a stim-like raw row and the sigma overlay."""
    import core.io.fif_direct as fd
    import core.io.page as page
    from core.io.recording import open_recording

    raw = long_real.copy().load_data()
    s30 = int(30 * raw.info["sfreq"])
    raw._data[7, s30:s30 + s30 // 60] = np.nan         # a gap (NaN stretch) on row 7
    path = _saved(raw, tmp_path / "threads_raw.fif", buffer_size_sec=3.3)
    rec = open_recording(path)
    n_ch = len(rec.ch_names)
    idx = tuple(range(n_ch))
    req = page.PageRequest(
        3, 12.0, 42.0, idx, 700, notch=50.0, sigma_band=(11.0, 16.0),
        raw_rows=(4,), row_filters=tuple((0.3, 35.0) if i % 3 else (0.1, None)
                                         for i in idx))
    monkeypatch.setattr(page, "PARALLEL_MIN_SAMPLES", 10 ** 12)
    monkeypatch.setattr(fd, "PARALLEL_MIN_VALUES", 10 ** 12)
    one = page.compute_page(rec, req)
    assert one.gap_rows == (7,)
    one = (one.data.copy(), one.sigma.copy())
    calls = []
    real = page.parallel_map

    def spy(fn, items, parallel=True):
        calls.append(parallel)
        return real(fn, items, parallel)

    monkeypatch.setattr(page, "parallel_map", spy)
    monkeypatch.setattr(fd, "parallel_map", spy)
    monkeypatch.setattr(page, "PARALLEL_MIN_SAMPLES", 1)
    monkeypatch.setattr(fd, "PARALLEL_MIN_VALUES", 1)
    two = page.compute_page(rec, req)
    assert calls == [True, True]                 # read and filter both threaded
    np.testing.assert_array_equal(two.data, one[0])
    np.testing.assert_array_equal(two.sigma, one[1])
    assert two.gap_rows == (7,) and np.isnan(two.data[7]).any()
    assert np.isfinite(np.delete(two.data, 7, axis=0)).all() and two.timings["filter"] >= 0
    assert two.timings["decimate"] >= 0          # wall-time split, not CPU sums
