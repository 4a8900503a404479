"""A Vectorview-like 306-channel MEG + 60-channel EEG layout on the template.

The 102 sensor sites are spread evenly (farthest-point sampling) over MNE's
bundled ``306m`` helmet surface; each site has a magnetometer and two
orthogonal planar gradiometers with MNE's Vectorview coil definitions
(``FIFFV_COIL_VV_MAG_T3``, ``FIFFV_COIL_VV_PLANAR_T1``). The template head is
placed in the helmet so that the scalp comes no closer than
:data:`CLEARANCE` to a sensor, as a well-seated adult head does.
"""

from __future__ import annotations

import numpy as np

from core.sources.headmodel import EEG_60, _mne_data, template_montage, template_trans

N_SITES = 102
#: Smallest scalp–sensor distance of the placed head (m).
CLEARANCE = 0.018


def _helmet():
    import mne

    surf = mne.read_bem_surfaces(_mne_data() / "helmets" / "306m.fif.gz",
                                 verbose="error")[0]
    return surf["rr"], surf["nn"]


def _farthest_points(rr: np.ndarray, n: int) -> np.ndarray:
    """Indices of ``n`` points spread evenly, starting from the top one."""
    chosen = [int(np.argmax(rr[:, 2]))]
    dist = np.linalg.norm(rr - rr[chosen[0]], axis=1)
    for _ in range(n - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(rr - rr[nxt], axis=1))
    return np.array(sorted(chosen, key=lambda i: (-rr[i, 2], rr[i, 0])))


def _scalp_head_coords() -> np.ndarray:
    import mne

    head = mne.read_bem_surfaces(_mne_data() / "fsaverage" / "fsaverage-head.fif",
                                 verbose="error")[0]
    mri_head = mne.transforms.invert_transform(template_trans())
    return mne.transforms.apply_trans(mri_head, head["rr"])


def _sphere_centre(rr: np.ndarray) -> np.ndarray:
    # linear least-squares sphere fit: |r|^2 = 2 c.r + (R^2 - |c|^2)
    a = np.c_[2 * rr, np.ones(len(rr))]
    sol = np.linalg.lstsq(a, (rr ** 2).sum(1), rcond=None)[0]
    return sol[:3]


def device_to_head(sites: np.ndarray) -> np.ndarray:
    """Device→head 4×4 transform seating the template head in the helmet."""
    from scipy.spatial import cKDTree

    scalp = _scalp_head_coords()
    upper = scalp[scalp[:, 2] > 0.02]
    c_head = _sphere_centre(upper)
    c_dev = _sphere_centre(sites)
    tree = cKDTree(scalp)
    # move the head up in the helmet until the nearest sensor is CLEARANCE away
    best = None
    for dz in np.arange(-0.03, 0.03, 0.0005):
        t = c_head - c_dev - np.array([0, 0, dz])
        gap = tree.query(sites + t)[0].min()
        if gap >= CLEARANCE:
            best = t
    trans = np.eye(4)
    trans[:3, 3] = best
    return trans


def make_info(sfreq: float, eeg_names=EEG_60, n_eog: int = 2):
    """Measurement info of the simulated MEG+EEG system.

    Parameters
    ----------
    sfreq : float
        Sampling frequency (Hz).
    eeg_names : list of str
        10-05 labels of the EEG channels.
    n_eog : int
        Number of EOG channels.

    Returns
    -------
    info : mne.Info
        102 magnetometers + 204 planar gradiometers (``MEGnnn1`` magnetometer,
        ``MEGnnn2``/``MEGnnn3`` gradiometers), EEG with positions and
        fiducials, EOG, and ``dev_head_t``.
    """
    import mne

    rr, nn = _helmet()
    idx = _farthest_points(rr, N_SITES)
    sites, normals = rr[idx], nn[idx]
    outward = np.sign(((sites - _sphere_centre(rr)) * normals).sum(1))
    normals = normals * outward[:, None]
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    names, types, locs = [], [], []
    for k, (r, ez) in enumerate(zip(sites, normals), start=1):
        # tangent frame: ex along the projection of the device x-axis
        ref = np.array([1.0, 0, 0]) if abs(ez[0]) < 0.9 else np.array([0, 1.0, 0])
        ex = ref - ez * ez.dot(ref)
        ex /= np.linalg.norm(ex)
        ey = np.cross(ez, ex)
        for suffix, kind, (a, b) in (("1", "mag", (ex, ey)), ("2", "grad", (ex, ey)),
                                     ("3", "grad", (ey, -ex))):
            names.append(f"MEG{k:03d}{suffix}")
            types.append(kind)
            locs.append(np.r_[r, a, b, ez])
    meg_names = names
    names = names + list(eeg_names) + [f"EOG{61 + i:03d}" for i in range(n_eog)]
    types = types + ["eeg"] * len(eeg_names) + ["eog"] * n_eog
    info = mne.create_info(names, sfreq, types)
    with info._unlock():
        for name, loc in zip(meg_names, locs):
            info["chs"][names.index(name)]["loc"][:] = loc
        info["dev_head_t"] = mne.transforms.Transform("meg", "head",
                                                      device_to_head(sites))
        info["line_freq"] = 50.0
        info["description"] = "SpindleScope simulated MEG+EEG (template head)"
    info.set_montage(template_montage(eeg_names), on_missing="ignore")
    return info
