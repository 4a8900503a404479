#!/usr/bin/env bash
# Build SpindleScope for Linux: a PyInstaller one-folder bundle, then
#   dist/SpindleScope-<version>-linux-x86_64.tar.gz
#   dist/spindlescope_<version>_amd64.deb   (installs to /opt/spindlescope,
#       /usr/bin/spindlescope, desktop entry, icon, *.spindlescope.json type;
#       remove with `dpkg -r spindlescope`)
# Run from anywhere: `bash installer/build_linux.sh`. Needs the app's Python
# environment plus PyInstaller (`pip install pyinstaller`) and dpkg-deb.
# Environment: SPINDLESCOPE_DIST (default <repo>/dist) and SPINDLESCOPE_BUILD
# (default <repo>/build) move the outputs and PyInstaller's work folder.
# The bundle runs on glibc as old as the build machine's (`ldd --version`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python}"
DIST="${SPINDLESCOPE_DIST:-$ROOT/dist}"
WORK="${SPINDLESCOPE_BUILD:-$ROOT/build}"
VERSION="$("$PYTHON" -c 'import core; print(core.__version__)')"
ARCH_DEB=amd64
NAME="SpindleScope-${VERSION}-linux-x86_64"
# Read ldd's whole output first: `ldd --version | head -n1` lets head close the
# pipe early, ldd then dies of SIGPIPE and pipefail ends the build (exit 141).
LDD_OUT="$(ldd --version 2>&1 || true)"
GLIBC="$(printf '%s\n' "$LDD_OUT" | sed -n '1s/.* \([0-9][0-9]*\.[0-9][0-9]*\)$/\1/p')"
GLIBC="${GLIBC:-unknown}"
t0=$(date +%s)

echo "== SpindleScope ${VERSION}: PyInstaller bundle (glibc ${GLIBC})"
[ -f resources/icons/spindlescope.png ] || "$PYTHON" installer/make_icon.py
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$DIST" --workpath "$WORK" installer/spindlescope.spec
BUNDLE="$DIST/SpindleScope"
[ -x "$BUNDLE/spindlescope" ] || { echo "error: no bundle at $BUNDLE" >&2; exit 1; }
t_bundle=$(date +%s)

echo "== tarball"
rm -rf "${DIST:?}/$NAME" "$DIST/$NAME.tar.gz"
cp -a "$BUNDLE" "$DIST/$NAME"
tar -C "$DIST" -czf "$DIST/$NAME.tar.gz" "$NAME"
rm -rf "${DIST:?}/$NAME"

echo "== .deb"
PKG="$WORK/deb/spindlescope_${VERSION}_${ARCH_DEB}"
rm -rf "$PKG"
mkdir -p "$PKG/DEBIAN" "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/applications" \
  "$PKG/usr/share/mime/packages" "$PKG/usr/share/icons/hicolor/256x256/apps" \
  "$PKG/usr/share/icons/hicolor/256x256/mimetypes" "$PKG/usr/share/doc/spindlescope"
cp -a "$BUNDLE" "$PKG/opt/spindlescope"
cat > "$PKG/usr/bin/spindlescope" <<'EOF'
#!/bin/sh
exec /opt/spindlescope/spindlescope "$@"
EOF
chmod 755 "$PKG/usr/bin/spindlescope"
cp resources/icons/spindlescope.png "$PKG/usr/share/icons/hicolor/256x256/apps/spindlescope.png"
cp resources/icons/spindlescope.png \
  "$PKG/usr/share/icons/hicolor/256x256/mimetypes/application-x-spindlescope-session.png"
cat > "$PKG/usr/share/applications/spindlescope.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=SpindleScope
GenericName=Sleep spindle analysis
Comment=Stage sleep, mark spindles and compare their EEG and MEG cortical sources
Exec=spindlescope %f
Icon=spindlescope
Terminal=false
Categories=Science;Education;MedicalSoftware;
MimeType=application/x-spindlescope-session;
Keywords=MEG;EEG;sleep;spindle;MNE;
EOF
cat > "$PKG/usr/share/mime/packages/spindlescope.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="application/x-spindlescope-session">
    <comment>SpindleScope session</comment>
    <sub-class-of type="application/json"/>
    <icon name="application-x-spindlescope-session"/>
    <glob pattern="*.spindlescope.json" weight="80"/>
  </mime-type>
</mime-info>
EOF
cat > "$PKG/usr/share/doc/spindlescope/copyright" <<'EOF'
SpindleScope: BSD-3-Clause. The bundle includes MNE-Python (BSD-3-Clause),
nilearn (BSD-3-Clause), Qt for Python (LGPL-3.0), VTK (BSD-3-Clause) and
their dependencies under their own licences.
EOF
SIZE_KB=$(du -sk "$PKG" | cut -f1)
cat > "$PKG/DEBIAN/control" <<EOF
Package: spindlescope
Version: ${VERSION}
Section: science
Priority: optional
Architecture: ${ARCH_DEB}
Installed-Size: ${SIZE_KB}
Depends: libc6 (>= ${GLIBC}), libgl1, libegl1, libfontconfig1, libxkbcommon0, libxkbcommon-x11-0, libxcb-cursor0, libx11-xcb1, libdbus-1-3
Maintainer: SpindleScope developers <spindlescope@users.noreply.github.com>
Description: stage sleep, mark spindles, compare EEG and MEG spindle sources
 SpindleScope opens simultaneous MEG+EEG sleep recordings, stages sleep,
 marks sleep spindles and estimates their cortical sources (dSPM) from EEG,
 MEG and both. Self-contained build (Python, Qt, MNE, VTK) in /opt/spindlescope.
EOF
for script in postinst postrm; do
  cat > "$PKG/DEBIAN/$script" <<'EOF'
#!/bin/sh
set -e
command -v update-mime-database >/dev/null 2>&1 && update-mime-database /usr/share/mime || true
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q /usr/share/applications || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
exit 0
EOF
  chmod 755 "$PKG/DEBIAN/$script"
done
DEB="$DIST/spindlescope_${VERSION}_${ARCH_DEB}.deb"
dpkg-deb --root-owner-group -Zgzip -z6 --build "$PKG" "$DEB" >/dev/null
rm -rf "$PKG"
t_end=$(date +%s)

echo "== done: SpindleScope ${VERSION}"
echo "bundle:      $BUNDLE ($(du -sh "$BUNDLE" | cut -f1), $(find "$BUNDLE" -type f | wc -l) files)"
echo "tarball:     $DIST/$NAME.tar.gz ($(du -h "$DIST/$NAME.tar.gz" | cut -f1))"
echo "deb:         $DEB ($(du -h "$DEB" | cut -f1))"
echo "oldest glibc: ${GLIBC} (this build machine's)"
echo "build time:  $((t_bundle - t0)) s bundle, $((t_end - t0)) s total"
