"""``resolution``: resolution metrics of linear inverse methods per sensor set.

Writes ``metrics.csv`` (one row per source x method x sensor set, one column
per ``{function}_{metric}``), ``summary.csv`` (median and IQR), the maps as
STC HDF5 files under ``maps/`` and an HTML summary ``report.html``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from core.utils import SpindleScopeError, check_range, logger
from core.utils.safe_io import write_via_temp

HELP = ("Resolution analysis (PSFs, CTFs, localisation / extent / amplitude "
        "metrics) of inverse methods for EEG+MEG, MEG and EEG.")


def add_arguments(parser):
    from core.cli.commands.analyze import _band
    from core.resolution.matrix import DEFAULT_METHODS, DEFAULT_SENSORS, METHODS, SENSOR_SETS

    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--demo", action="store_true",
                     help="use the demo recording's template forward model and "
                          "noise covariance (built once, then cached)")
    src.add_argument("--forward", metavar="FWD",
                     help="forward model (-fwd.fif) on a cortical source space")
    parser.add_argument("--noise-cov", metavar="COV",
                        help="noise covariance (-cov.fif); required with --forward")
    parser.add_argument("--info", metavar="FILE",
                        help="measurement file (raw/evoked FIF) for bad channels, "
                             "projections and Maxwell filtering (default: the "
                             "forward model's channels)")
    parser.add_argument("--data-cov", metavar="COV",
                        help="data covariance (-cov.fif), needed for LCMV")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                        help=f"comma-separated, of {', '.join(METHODS)} "
                             f"(default: %(default)s)")
    parser.add_argument("--sensors", default=",".join(DEFAULT_SENSORS),
                        help=f"comma-separated, of {', '.join(SENSOR_SETS)} "
                             f"(default: %(default)s)")
    parser.add_argument("--snr", type=float, default=3.0,
                        help="SNR for lambda2 = 1/SNR^2 (default: %(default)s)")
    parser.add_argument("--reg", type=float, default=None,
                        help="regularise the noise covariance by this fraction per "
                             "channel type (Hauk et al.: 0.2; default: as given)")
    parser.add_argument("--band", type=_band, default=(10.0, 15.0),
                        help="with --demo: band-pass of the noise covariance "
                             "(spindle-free N2 data), LOW,HIGH Hz or 'none' "
                             "(default 10,15, as the app)")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="amplitude fraction for the maximum radius "
                             "(default: %(default)s)")
    parser.add_argument("--max-dense-mb", type=float, default=256.0,
                        help="assemble a resolution matrix in memory when it takes "
                             "at most this many MB (faster), else work from its "
                             "factors block by block (default: %(default)s; "
                             "20,484 sources need 3,400)")
    parser.add_argument("--no-maps", action="store_true",
                        help="do not write the STC maps")
    parser.add_argument("--no-report", action="store_true",
                        help="do not write the HTML report")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="output folder (created if needed)")


def run(args) -> int:
    from core.cli.main import TerminalProgress
    from core.resolution.metrics import FUNCTIONS, METRICS
    from core.utils.safe_io import write_folder_via_temp  # noqa: I001
    from core.utils import run_with_progress

    progress = TerminalProgress()
    max_dense = int(check_range("max-dense-mb", args.max_dense_mb, 0.0) * 2 ** 20)
    study = dict(snr=args.snr, reg=args.reg, data_cov=args.data_cov,
                 threshold=args.threshold, max_dense_bytes=max_dense)
    if args.demo and (args.noise_cov or args.forward):
        raise SpindleScopeError("--demo uses the demo's own forward model and "
                                "noise covariance; do not give --forward or "
                                "--noise-cov with it.")
    if not args.demo and not args.noise_cov:
        raise SpindleScopeError("--forward needs --noise-cov (a noise covariance "
                                "file of the same channels).")
    options = dict(methods=_split(args.methods), sensors=_split(args.sensors),
                   functions=FUNCTIONS, metrics=METRICS, **study)
    if args.demo:
        # the demo session as the app's Resolution tab holds it: the same
        # head model and the same noise covariance (spindle-free N2 data,
        # band-passed like the analysed data)
        session = demo_session(progress, band=args.band)
    else:
        # no recording: an empty session studies the given files, through
        # the same pipeline entry (Session.iter_resolution)
        from core.session.session import Session

        session = Session()
        options.update(forward=args.forward, noise_cov=args.noise_cov, info=args.info)
    computed = run_with_progress(session.iter_resolution(**options), progress)
    if computed.key is not None:
        session.workspace.store(computed)
    results = computed.result
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # every output through the atomic writer: a kill never leaves half a file
    write_via_temp(out / "metrics.csv", results.write_csv)
    write_via_temp(out / "summary.csv", results.write_summary_csv)
    if not args.no_maps:
        write_folder_via_temp(out / "maps", results.save_maps)
    if not args.no_report:
        write_report(results, out / "report.html")
    _print_summary(results)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _split(text) -> tuple:
    if isinstance(text, str):
        return tuple(v.strip() for v in text.split(",") if v.strip())
    return tuple(text)


def demo_session(progress=None, band=(10.0, 15.0), max_spindles=None):
    """The demo recording, spindles and hypnogram in a Session with the demo's
    forward model (what the app's Sources and Resolution tabs use)."""
    from core.session.session import open_session
    from core.session.simulate import demo_paths

    paths = demo_paths(progress=progress)
    session = open_session(paths.raw, spindles=paths.spindles, hypnogram=paths.hypnogram)
    session.workspace.update(head={"kind": "forward", "forward": str(paths.forward)},
                             max_spindles=max_spindles, band=band)
    return session


def _print_summary(results):
    """Median PSF/CTF figures per method and sensor set on stdout."""
    keys = ["psf_peak_err", "psf_sd_ext", "ctf_peak_err", "ctf_sd_ext",
            "ctf_sum_amp"]
    keys = [k for k in keys if k in results.names]
    print("median per source (distances in cm)")
    print(f"{'method':<9}{'sensors':<8}" + "".join(f"{k:>14}" for k in keys))
    for m, s in results.keys:
        print(f"{m:<9}{s:<8}" + "".join(f"{results.median(m, s, k):>14.3f}"
                                         for k in keys))


# --------------------------------------------------------------------------
# HTML report
# --------------------------------------------------------------------------
def _figure(width=8.0, height=4.0):
    # no pyplot: no GUI backend is ever selected
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _box_figure(results, name):
    from core.resolution.matrix import SENSOR_LABELS
    from core.resolution.metrics import METRIC_UNITS

    fig = _figure(max(6.0, 1.2 * len(results.keys)), 3.6)
    ax = fig.add_subplot(1, 1, 1)
    data, labels = [], []
    for m, s in results.keys:
        v = results.get(m, s, name)
        data.append(v[np.isfinite(v)])
        labels.append(f"{m}\n{SENSOR_LABELS[s]}")
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(labels) + 1), labels, fontsize=7)
    unit = METRIC_UNITS[name.split("_", 1)[1]]
    ax.set_ylabel(f"{name} ({unit})")
    ax.set_title(f"{name}: distribution over sources")
    return fig


def _map_figure(results, method, name):
    """Top view of the sources coloured by a metric, one panel per sensor set."""
    from core.resolution.matrix import SENSOR_LABELS

    sets = [s for s in results.sensor_sets if (method, s) in results.values]
    fig = _figure(3.2 * len(sets) + 0.8, 3.2)
    xyz = results.locations * 1e3
    vals = [results.get(method, s, name) for s in sets]
    finite = np.concatenate([v[np.isfinite(v)] for v in vals])
    vmin, vmax = np.percentile(finite, [2, 98]) if finite.size else (0, 1)
    order = np.argsort(xyz[:, 2])
    sc = None
    for k, (s, v) in enumerate(zip(sets, vals)):
        ax = fig.add_subplot(1, len(sets), k + 1)
        sc = ax.scatter(xyz[order, 0], xyz[order, 1], c=v[order], s=4, vmin=vmin,
                        vmax=vmax, cmap="viridis")
        ax.set_aspect("equal")
        ax.set_title(f"{method}, {SENSOR_LABELS[s]}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    if sc is not None:
        fig.colorbar(sc, ax=fig.axes, shrink=0.8, label=name)
    return fig


def _summary_html(results):
    rows = results.summary()
    head = ("<tr><th>method</th><th>sensors</th><th>metric</th><th>unit</th>"
            "<th>median</th><th>Q1</th><th>Q3</th><th>IQR</th></tr>")
    body = "".join(
        f"<tr><td>{r['method']}</td><td>{r['sensors']}</td><td>{r['metric']}</td>"
        f"<td>{r['unit']}</td><td>{r['median']:.3g}</td><td>{r['q1']:.3g}</td>"
        f"<td>{r['q3']:.3g}</td><td>{r['iqr']:.3g}</td></tr>" for r in rows)
    return f"<table class='table table-sm'>{head}{body}</table>"


def write_report(results, fname):
    """HTML summary of a study (``mne.Report`` with matplotlib figures).

    Parameters
    ----------
    results : ResolutionResults
    fname : path-like
        Output ``.html`` file.

    Returns
    -------
    fname : Path
    """
    import mne

    report = mne.Report(title="SpindleScope resolution analysis", verbose="error")
    p = results.params
    report.add_html(
        f"<p>{results.n_sources} sources; methods {', '.join(results.methods)}; "
        f"sensor sets {', '.join(results.sensor_sets)}; SNR {p.get('snr')} "
        f"(lambda2 = {p.get('lambda2', float('nan')):.4g}); noise-covariance "
        f"regularisation {p.get('reg')}; threshold {p.get('threshold')}. "
        "Distances in cm; amplitudes relative to the largest over sources.</p>",
        title="Settings")
    report.add_html(_summary_html(results), title="Summary (median, IQR)")
    for name in ("psf_peak_err", "psf_sd_ext", "ctf_peak_err", "ctf_sd_ext",
                 "ctf_sum_amp"):
        if name in results.names:
            report.add_figure(_box_figure(results, name), title=name,
                              section="Distributions")
    for method in results.methods:
        for name in ("psf_sd_ext", "ctf_peak_err"):
            if name in results.names:
                report.add_figure(_map_figure(results, method, name),
                                  title=f"{method}: {name}", section="Maps (top view)")
    contrasts = results.default_contrasts()
    if contrasts and "psf_sd_ext" in results.names:
        rows = "".join(
            f"<tr><td>{label}</td><td>"
            f"{np.nanmedian(results.contrast('psf_sd_ext', *ab)):.3g}</td><td>"
            f"{np.nanmean(results.contrast('psf_sd_ext', *ab) < 0) * 100:.0f} %"
            f"</td></tr>" for label, ab in contrasts.items())
        report.add_html("<table class='table table-sm'><tr><th>contrast</th>"
                        "<th>median difference of psf_sd_ext (cm)</th><th>sources "
                        f"where the first is smaller</th></tr>{rows}</table>",
                        title="Contrasts")
    fname = Path(fname)
    write_via_temp(fname, lambda tmp: report.save(tmp, overwrite=True,
                                                  open_browser=False, verbose="error"))
    logger.info("Wrote %s", fname)
    return fname
