#!/usr/bin/env bash
# Smoke test of the Linux installers (slow: a PyInstaller build, several
# minutes; not part of the pytest run):
#   1. clone the repository's committed HEAD into a temporary folder (a clean
#      clone) and run installer/build_linux.sh there;
#   2. run the frozen app's --version and `--demo --screenshot out.png` under
#      Xvfb (xvfb-run -a); check exit 0 and a non-blank image; the same for
#      `--demo --tab sources` (PyVista/VTK in the bundle);
#   3. install the .deb with dpkg -i, run the installed `spindlescope` the
#      same way, then remove it with dpkg -r;
#   4. print bundle size, build time and the frozen app's first-run time.
# Usage: bash installer/smoke_test.sh [--in-place] [--keep]
#   --in-place  build in this checkout (dist/, build/) instead of a clone (CI)
#   --keep      keep the temporary folder and leave the package installed
# The template head model is built into a fresh cache folder (first run)
# unless SPINDLESCOPE_CACHE_DIR is set.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python}"
IN_PLACE=0
KEEP=0
for arg in "$@"; do
  case "$arg" in
    --in-place) IN_PLACE=1 ;;
    --keep) KEEP=1 ;;
    *) echo "usage: $0 [--in-place] [--keep]" >&2; exit 2 ;;
  esac
done
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/spindlescope-smoke.XXXXXX")"
cleanup() {
  if [ "$KEEP" = 0 ]; then
    $SUDO dpkg -r spindlescope >/dev/null 2>&1 || true
    rm -rf "$TMP"
  else
    echo "kept: $TMP"
  fi
}
trap cleanup EXIT
export SPINDLESCOPE_CACHE_DIR="${SPINDLESCOPE_CACHE_DIR:-$TMP/cache}"
fail() { echo "SMOKE TEST FAILED: $*" >&2; exit 1; }

if [ "$IN_PLACE" = 1 ]; then
  SRC="$ROOT"
  export SPINDLESCOPE_DIST="${SPINDLESCOPE_DIST:-$ROOT/dist}"
  export SPINDLESCOPE_BUILD="${SPINDLESCOPE_BUILD:-$ROOT/build}"
else
  SRC="$TMP/src"
  git clone --quiet "$ROOT" "$SRC"
  echo "== clean clone of $(git -C "$SRC" rev-parse --short HEAD) in $SRC"
  export SPINDLESCOPE_DIST="$TMP/dist"
  export SPINDLESCOPE_BUILD="$TMP/build"
fi
VERSION="$(cd "$SRC" && "$PYTHON" -c 'import core; print(core.__version__)')"

t0=$(date +%s)
bash "$SRC/installer/build_linux.sh"
t_build=$(( $(date +%s) - t0 ))
BUNDLE="$SPINDLESCOPE_DIST/SpindleScope"
DEB="$SPINDLESCOPE_DIST/spindlescope_${VERSION}_amd64.deb"
TGZ="$SPINDLESCOPE_DIST/SpindleScope-${VERSION}-linux-x86_64.tar.gz"
[ -f "$DEB" ] || fail "no .deb at $DEB"
[ -f "$TGZ" ] || fail "no tarball at $TGZ"

# Run from an empty folder so nothing is picked up from a source checkout.
RUN="$TMP/run"
mkdir -p "$RUN"

check_image() {  # non-blank: many distinct colours and some contrast
  "$PYTHON" - "$1" <<'EOF'
import sys
from PIL import Image, ImageStat
img = Image.open(sys.argv[1]).convert("RGB")
colors = img.getcolors(maxcolors=1 << 20)
n = len(colors) if colors is not None else 1 << 20
std = sum(ImageStat.Stat(img).stddev) / 3
print(f"  image {img.width}x{img.height}, {n} colours, std {std:.1f}")
sys.exit(0 if (n >= 16 and std >= 5 and img.width >= 800) else 1)
EOF
}

run_app() {  # $1: label, $2...: command
  local label="$1"; shift
  local out
  out="$(cd "$RUN" && "$@" --version)" || fail "$label --version exited $?"
  echo "  $label --version: $out"
  [ "$out" = "SpindleScope $VERSION" ] || fail "$label --version printed '$out'"
  local png="$RUN/${label}.png" t=$(date +%s)
  rm -f "$png"
  (cd "$RUN" && xvfb-run -a "$@" --demo --screenshot "$png") \
    || fail "$label --demo --screenshot exited $?"
  local dt=$(( $(date +%s) - t ))
  [ -s "$png" ] || fail "$label wrote no screenshot"
  check_image "$png" || fail "$label screenshot is blank"
  echo "  $label --demo --screenshot: exit 0 in ${dt} s"
  LAST_DT=$dt
}

echo "== frozen app ($BUNDLE), cache $SPINDLESCOPE_CACHE_DIR"
run_app frozen "$BUNDLE/spindlescope"
first_run=$LAST_DT
run_app frozen-again "$BUNDLE/spindlescope"
second_run=$LAST_DT
# the Sources tab: PyVista/VTK brains in the bundle (26 spindles, ~1.5 min)
t=$(date +%s)
(cd "$RUN" && xvfb-run -a "$BUNDLE/spindlescope" --demo --tab sources \
  --screenshot "$RUN/frozen-sources.png" >/dev/null) || fail "frozen --tab sources exited $?"
check_image "$RUN/frozen-sources.png" || fail "frozen Sources screenshot is blank"
sources_run=$(( $(date +%s) - t ))
echo "  frozen --demo --tab sources --screenshot: exit 0 in ${sources_run} s"

echo "== .deb: dpkg -i $(basename "$DEB")"
$SUDO dpkg -i "$DEB" >/dev/null || fail "dpkg -i failed"
command -v spindlescope >/dev/null || fail "spindlescope is not on PATH after dpkg -i"
[ -f /usr/share/applications/spindlescope.desktop ] || fail "no desktop entry"
run_app installed spindlescope
installed_size=$(dpkg-query -W -f='${Installed-Size}' spindlescope)
if [ "$KEEP" = 0 ]; then
  $SUDO dpkg -r spindlescope >/dev/null || fail "dpkg -r failed"
  [ ! -e /usr/bin/spindlescope ] && [ ! -e /opt/spindlescope ] \
    || fail "dpkg -r left files behind"
  echo "  dpkg -r spindlescope: removed /usr/bin/spindlescope and /opt/spindlescope"
fi

echo "== SMOKE TEST PASSED: SpindleScope $VERSION"
echo "bundle size:      $(du -sh "$BUNDLE" | cut -f1) ($(du -sm "$BUNDLE" | cut -f1) MB, $(find "$BUNDLE" -type f | wc -l) files)"
echo "tar.gz size:      $(du -m "$TGZ" | cut -f1) MB"
echo ".deb size:        $(du -m "$DEB" | cut -f1) MB (installed $((installed_size / 1024)) MB)"
echo "build time:       ${t_build} s (build_linux.sh, PyInstaller + tar.gz + .deb)"
echo "first run:        ${first_run} s (--demo --screenshot, builds the template head model and the demo)"
echo "later runs:       ${second_run} s (Sources tab with 26 spindles: ${sources_run} s)"
echo "template cache:   $(du -sm "$SPINDLESCOPE_CACHE_DIR" 2>/dev/null | cut -f1) MB in $SPINDLESCOPE_CACHE_DIR"
echo "glibc (oldest):   $(ldd --version | head -n1 | grep -oE '[0-9]+\.[0-9]+$')"
