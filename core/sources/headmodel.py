"""Head models: the offline fsaverage template and the subject's own.

The template is assembled from what installed packages ship, with no
download: nilearn's fsaverage5 surfaces (white, pial, inflated, sphere, curv,
sulc), MNE's bundled fsaverage inner skull, head surface, fiducials and
head→MRI transform, and MNE's ``fsaverage_1005`` EEG montage. A 3-layer BEM
(brain / skull / scalp = 0.3 / 0.006 / 0.3 S/m) is made from the inner skull,
an outer skull derived from it by radial expansion, and the head surface.

Everything built is cached under :func:`core.utils.cache_dir` with a manifest;
a missing file or a changed build recipe triggers a rebuild.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import numpy as np

from core.utils import (Progress, SpindleScopeError, atomic_write_text, cache_dir, check_option,
                        logger, run_with_progress)

#: Bump when the recipe changes: caches built by older recipes are rebuilt.
TEMPLATE_RECIPE = 3
SUBJECT = "fsaverage"
CONDUCTIVITY = (0.3, 0.006, 0.3)
#: Radial distance between inner and outer skull of the template (m).
SKULL_THICKNESS = 0.004
#: Triangulation of the inner skull in the BEM: ico-4 (5,120 triangles), fine
#: enough for the cortical sources closest to it.
BEM_INNER_ICO = 4
#: The outer skull and scalp matter less for accuracy: ico-3 (1,280 triangles).
BEM_OUTER_ICO = 3
#: Vertices kept of the head surface in the BEM.
BEM_HEAD_VERTICES = 642
SPACINGS = ("ico4", "ico5")

#: A 60-channel 10-10 subset, as in common 60-channel sleep MEG/EEG caps.
EEG_60 = (
    "Fp1 Fp2 AF7 AF3 AFz AF4 AF8 F7 F5 F3 F1 Fz F2 F4 F6 F8 FT7 FC5 FC3 FC1 "
    "FCz FC2 FC4 FC6 FT8 T7 C5 C3 C1 Cz C2 C4 C6 T8 TP7 CP5 CP3 CP1 CPz CP2 "
    "CP4 CP6 TP8 P7 P5 P3 P1 Pz P2 P4 P6 P8 PO7 PO3 POz PO4 PO8 O1 Oz O2"
).split()


def _mne_data() -> Path:
    import mne

    return Path(mne.__file__).parent / "data"


def _template_root() -> Path:
    return cache_dir() / f"template-r{TEMPLATE_RECIPE}"


def _manifest_ok(path: Path, key: dict) -> bool:
    man = path.with_name(path.name + ".json")
    if not (path.exists() and man.exists()):
        return False
    try:
        return json.loads(man.read_text()) == key
    except (OSError, ValueError):
        return False


def _write_manifest(path: Path, key: dict):
    atomic_write_text(path.with_name(path.name + ".json"), json.dumps(key, sort_keys=True))


def _recipe_key(**extra) -> dict:
    import mne

    return {"recipe": TEMPLATE_RECIPE, "mne": mne.__version__, **extra}


# --------------------------------------------------------------------------
# Surfaces
# --------------------------------------------------------------------------
def template_subjects_dir() -> Path:
    """A FreeSurfer-like SUBJECTS_DIR holding the template subject.

    Returns
    -------
    subjects_dir : Path
        Contains ``fsaverage/surf/{lh,rh}.{white,pial,inflated,sphere,curv,
        sulc}`` and ``fsaverage/bem/`` (inner skull, outer skull, outer skin,
        fiducials, head).
    """
    root = _template_root() / "subjects"
    subj = root / SUBJECT
    stamp = subj / "complete.json"
    key = _recipe_key()
    if _manifest_ok(stamp, key):
        return root
    if subj.exists():
        shutil.rmtree(subj)
    logger.info("Writing the fsaverage5 template surfaces to %s", subj)
    _write_surfaces(subj)
    _write_bem_surfaces(subj)
    stamp.write_text("ok")
    _write_manifest(stamp, key)
    return root


def _write_surfaces(subj: Path):
    import nibabel as nib
    from nilearn import datasets

    fs5 = datasets.fetch_surf_fsaverage("fsaverage5")
    surf = subj / "surf"
    surf.mkdir(parents=True)
    names = {"white": "white", "pial": "pial", "inflated": "infl",
             "sphere": "sphere"}
    for hemi, side in (("lh", "left"), ("rh", "right")):
        for fs_name, nl_name in names.items():
            gii = nib.load(fs5[f"{nl_name}_{side}"])
            rr = np.asarray(gii.darrays[0].data, float)
            tris = np.asarray(gii.darrays[1].data, np.int32)
            if fs_name == "sphere":
                # FreeSurfer spheres have radius 100 mm, centred at 0
                rr = 100.0 * rr / np.linalg.norm(rr, axis=1, keepdims=True)
            nib.freesurfer.write_geometry(str(surf / f"{hemi}.{fs_name}"), rr, tris)
        for fs_name in ("curv", "sulc"):
            vals = np.asarray(nib.load(fs5[f"{fs_name}_{side}"]).darrays[0].data,
                              np.float32)
            nib.freesurfer.write_morph_data(str(surf / f"{hemi}.{fs_name}"), vals)


def _ico_downsample(rr: np.ndarray, tris: np.ndarray, ico: int):
    """Downsample a subdivided-icosahedron surface to ``ico`` (MNE's method).

    MNE does this inside :func:`mne.make_bem_model`; a one-layer model of a
    scratch subject reuses it through the public API.
    """
    import tempfile

    import mne
    import nibabel as nib

    with tempfile.TemporaryDirectory() as tmp:
        bem = Path(tmp) / "s" / "bem"
        bem.mkdir(parents=True)
        nib.freesurfer.write_geometry(str(bem / "inner_skull.surf"), rr * 1e3, tris)
        surf = mne.make_bem_model("s", ico=ico, conductivity=(0.3,),
                                  subjects_dir=tmp, verbose="error")[0]
    return surf["rr"], surf["tris"]


def _write_bem_surfaces(subj: Path):
    import mne
    import nibabel as nib

    data = _mne_data() / "fsaverage"
    bem = subj / "bem"
    bem.mkdir(parents=True)
    inner = mne.read_bem_surfaces(data / "fsaverage-inner_skull-bem.fif",
                                  verbose="error")[0]
    head = mne.read_bem_surfaces(data / "fsaverage-head.fif", verbose="error")[0]
    # the bundled inner skull is an ico-5 subdivision: downsample it
    rr_in, tris_in = _ico_downsample(inner["rr"], inner["tris"], BEM_INNER_ICO)
    # outer skull: a coarser copy with each vertex pushed out along the
    # direction from the centre
    rr_o, tris_out = _ico_downsample(inner["rr"], inner["tris"], BEM_OUTER_ICO)
    d = rr_o - rr_in.mean(0)
    rr_out = rr_o + SKULL_THICKNESS * d / np.linalg.norm(d, axis=1, keepdims=True)
    # scalp: the bundled head surface, decimated for the BEM
    rr_head, tris_head = mne.decimate_surface(
        head["rr"], head["tris"], n_triangles=2 * BEM_HEAD_VERTICES - 4)
    # the skull must stay inside the scalp with a margin
    from scipy.spatial import cKDTree

    gap = cKDTree(rr_head).query(rr_out)[0].min()
    if gap < 0.002:
        raise RuntimeError(f"template outer skull comes within {gap * 1e3:.1f} mm "
                           f"of the scalp")
    for name, rr, tris in (("inner_skull", rr_in, tris_in),
                           ("outer_skull", rr_out, tris_out),
                           ("outer_skin", rr_head, tris_head)):
        nib.freesurfer.write_geometry(str(bem / f"{name}.surf"), rr * 1e3, tris)
    shutil.copy(data / "fsaverage-fiducials.fif", bem / "fsaverage-fiducials.fif")
    shutil.copy(data / "fsaverage-head.fif", bem / "fsaverage-head.fif")
    shutil.copy(data / "fsaverage-trans.fif", bem / "fsaverage-trans.fif")


def template_trans():
    """The template's head→MRI transform (MNE's bundled fsaverage-trans)."""
    import mne

    return mne.read_trans(_mne_data() / "fsaverage" / "fsaverage-trans.fif")


def template_montage(names=EEG_60):
    """EEG positions on the template head (MNE's ``fsaverage_1005``).

    Parameters
    ----------
    names : list of str
        10-05 labels to keep; defaults to a 60-channel 10-10 cap.

    Returns
    -------
    montage : mne.channels.DigMontage
    """
    import mne

    full = mne.channels.make_standard_montage("fsaverage_1005")
    pos = full.get_positions()
    missing = [n for n in names if n not in pos["ch_pos"]]
    if missing:
        raise SpindleScopeError(f"Unknown 10-05 labels: {missing}.")
    return mne.channels.make_dig_montage(
        ch_pos={n: pos["ch_pos"][n] for n in names}, nasion=pos["nasion"],
        lpa=pos["lpa"], rpa=pos["rpa"], coord_frame=pos["coord_frame"])


# --------------------------------------------------------------------------
# Source spaces and BEM
# --------------------------------------------------------------------------
def template_source_space(spacing: str = "ico4"):
    """Cortical source space on the template's white surface.

    Parameters
    ----------
    spacing : 'ico4' | 'ico5'
        5,124 or 20,484 sources (both hemispheres).

    Returns
    -------
    src : mne.SourceSpaces
    """
    import mne

    check_option("spacing", spacing, SPACINGS)
    path = _template_root() / f"fsaverage-{spacing}-src.fif"
    key = _recipe_key(spacing=spacing)
    if _manifest_ok(path, key):
        return mne.read_source_spaces(path, verbose="error")
    subjects_dir = template_subjects_dir()
    src = mne.setup_source_space(SUBJECT, spacing=spacing, subjects_dir=subjects_dir,
                                 add_dist=False, verbose="error")
    mne.write_source_spaces(path, src, overwrite=True, verbose="error")
    _write_manifest(path, key)
    # read back: FreeSurfer geometry comes in big-endian integers, which MNE's
    # numba kernels reject; the FIF round trip gives native arrays
    return mne.read_source_spaces(path, verbose="error")


def _conductivity_tag(conductivity) -> str:
    """File-name tag of a non-default conductivity ('' for the default)."""
    if tuple(float(c) for c in conductivity) == CONDUCTIVITY:
        return ""
    return "-sigma" + "_".join(f"{float(c):g}" for c in conductivity)


def _check_conductivity(conductivity) -> tuple:
    cond = tuple(float(c) for c in np.atleast_1d(conductivity))
    if len(cond) != 3 or not all(np.isfinite(c) and c > 0 for c in cond):
        raise SpindleScopeError(
            f"conductivity must be three positive numbers (brain, skull, scalp "
            f"in S/m, e.g. {CONDUCTIVITY}), got {conductivity!r}.")
    return cond


def iter_template_bem(conductivity=CONDUCTIVITY):
    """Build (or load) the template's 3-layer BEM solution.

    Parameters
    ----------
    conductivity : tuple of float
        Brain, skull and scalp conductivities (S/m); each set is cached
        separately (the demo simulates with a perturbed skull).

    Yields
    ------
    progress : Progress

    Returns
    -------
    bem : mne.bem.ConductorModel
    """
    import mne

    conductivity = _check_conductivity(conductivity)
    tag = _conductivity_tag(conductivity)
    path = _template_root() / f"fsaverage-3layer{tag}-bem-sol.fif"
    key = _recipe_key(conductivity=list(conductivity))
    if _manifest_ok(path, key):
        return mne.read_bem_solution(path, verbose="error")
    subjects_dir = template_subjects_dir()
    yield Progress(0, 2, "Template head: BEM surfaces")
    surfs = mne.make_bem_model(SUBJECT, ico=None, conductivity=conductivity,
                               subjects_dir=subjects_dir, verbose="error")
    yield Progress(1, 2, "Template head: BEM solution (once, then cached)")
    bem = mne.make_bem_solution(surfs, verbose="error")
    mne.write_bem_solution(path, bem, overwrite=True, verbose="error")
    _write_manifest(path, key)
    yield Progress(2, 2, "Template head: BEM ready")
    # read back for native byte order (see template_source_space)
    return mne.read_bem_solution(path, verbose="error")


def template_bem():
    """The template's 3-layer BEM solution (built once, cached)."""
    return run_with_progress(iter_template_bem())


# --------------------------------------------------------------------------
# Forward models
# --------------------------------------------------------------------------
def _info_key(info) -> str:
    """A hash of what a forward model depends on in ``info``."""
    h = hashlib.sha1()
    for ch in info["chs"]:
        if ch["kind"] not in (1, 2):  # FIFFV_MEG_CH, FIFFV_EEG_CH
            continue
        h.update(ch["ch_name"].encode())
        h.update(np.asarray(ch["loc"], np.float64).round(9).tobytes())
        h.update(str(int(ch["coil_type"])).encode())
    if info["dev_head_t"] is not None:
        h.update(np.asarray(info["dev_head_t"]["trans"]).round(9).tobytes())
    return h.hexdigest()[:16]


def _meg_eeg_present(info) -> tuple[bool, bool]:
    import mne

    meg = len(mne.pick_types(info, meg=True, eeg=False, exclude=())) > 0
    eeg = len(mne.pick_types(info, meg=False, eeg=True, exclude=())) > 0
    return meg, eeg


def iter_template_forward(info, spacing: str = "ico4", conductivity=CONDUCTIVITY):
    """Forward model of ``info``'s sensors on the template head (cached).

    Parameters
    ----------
    info : mne.Info
        Sensor definitions (EEG positions in head coordinates, MEG geometry
        and ``dev_head_t``).
    spacing : 'ico4' | 'ico5'
        Source space resolution.
    conductivity : tuple of float
        Brain, skull and scalp conductivities (S/m) of the BEM; part of the
        cache key.

    Yields
    ------
    progress : Progress

    Returns
    -------
    fwd : mne.Forward
        Free orientation, in head coordinates.
    """
    import mne

    check_option("spacing", spacing, SPACINGS)
    meg, eeg = _meg_eeg_present(info)
    if not (meg or eeg):
        raise SpindleScopeError(
            "The recording has neither MEG nor EEG channels: no forward model "
            "can be computed.")
    conductivity = _check_conductivity(conductivity)
    tag = _conductivity_tag(conductivity)
    fkey = _info_key(info)
    path = _template_root() / "forward" / f"{spacing}-{fkey}{tag}-fwd.fif"
    key = _recipe_key(spacing=spacing, info=fkey)
    if tag:
        key["conductivity"] = list(conductivity)
    if _manifest_ok(path, key):
        return mne.read_forward_solution(path, verbose="error")
    bem = yield from iter_template_bem(conductivity)
    yield Progress(0, 2, f"Template head: source space {spacing}")
    src = template_source_space(spacing)
    yield Progress(1, 2, "Template head: forward model (once per sensor layout)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fwd = mne.make_forward_solution(info, trans=template_trans(), src=src,
                                        bem=bem, meg=meg, eeg=eeg, mindist=0.0,
                                        n_jobs=1, verbose="error")
    n_src = sum(s["nuse"] for s in src)
    if fwd["nsource"] != n_src:
        logger.warning("The template forward kept %d of %d sources.",
                       fwd["nsource"], n_src)
    path.parent.mkdir(parents=True, exist_ok=True)
    mne.write_forward_solution(path, fwd, overwrite=True, verbose="error")
    _write_manifest(path, key)
    yield Progress(2, 2, "Template head: forward ready")
    # what was written (single precision), so that a fresh build and a
    # cached one give the caller the same numbers
    return mne.read_forward_solution(path, verbose="error")


def template_forward(info, spacing: str = "ico4", progress=None):
    """Blocking wrapper around :func:`iter_template_forward`."""
    return run_with_progress(iter_template_forward(info, spacing), progress)


def subject_forward(info, *, forward=None, subjects_dir=None, subject=None,
                    trans=None, bem=None, src=None, spacing="oct6"):
    """The subject's own forward model.

    Either ``forward`` (a ``-fwd.fif`` file), or ``subjects_dir``, ``subject``,
    ``trans`` and ``bem`` (a BEM solution file), with ``src`` (a source-space
    file) or ``spacing`` to set up a source space on the subject's white
    surface.

    Returns
    -------
    fwd : mne.Forward
    """
    import mne

    if forward is not None:
        path = Path(forward)
        if not path.exists():
            raise SpindleScopeError(f"The forward-solution file {str(path)!r} "
                                    f"does not exist.")
        try:
            return mne.read_forward_solution(path, verbose="error")
        except Exception as exc:
            raise SpindleScopeError(
                f"Cannot read {path.name!r} as a forward solution ({exc}).") from exc
    missing = [n for n, v in (("subjects_dir", subjects_dir), ("subject", subject),
                              ("trans", trans), ("bem", bem)) if v is None]
    if missing:
        raise SpindleScopeError(
            "A subject's head model needs either a forward-solution file or "
            f"all of subjects_dir, subject, trans and bem; missing: "
            f"{', '.join(missing)}.")
    for name, val in (("trans", trans), ("bem", bem), ("src", src)):
        if val is not None and not Path(val).exists():
            raise SpindleScopeError(f"The {name} file {str(val)!r} does not exist.")
    if not (Path(subjects_dir) / subject).is_dir():
        raise SpindleScopeError(
            f"Subject {subject!r} is not in the subjects folder {str(subjects_dir)!r}.")
    if src is not None:
        src_obj = mne.read_source_spaces(src, verbose="error")
    else:
        src_obj = mne.setup_source_space(subject, spacing=spacing,
                                         subjects_dir=subjects_dir, add_dist=False,
                                         verbose="error")
    meg, eeg = _meg_eeg_present(info)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mne.make_forward_solution(info, trans=str(trans), src=src_obj,
                                         bem=str(bem), meg=meg, eeg=eeg,
                                         mindist=0.0, verbose="error")
