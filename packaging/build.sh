#!/usr/bin/env bash
# Build the one-folder Linux bundle dist/kube9-desktop/ with PyInstaller and smoke-test it.
#
# Usage: packaging/build.sh            (run from anywhere; uses $PYTHON or the repo's .venv)
# Needs: pip install -e ".[package]"  (pyinstaller); `make package` does both steps.
set -euo pipefail

cd "$(dirname "$0")/.."

if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

"$PYTHON" -m PyInstaller --version >/dev/null 2>&1 || {
  echo "PyInstaller is not installed for $PYTHON; run: $PYTHON -m pip install -e '.[package]'" >&2
  exit 1
}

"$PYTHON" -m PyInstaller --noconfirm --clean packaging/pyinstaller/kube9-desktop.spec \
  --distpath dist --workpath build/pyinstaller

app=dist/kube9-desktop/kube9-desktop
[[ -x "$app" ]] || { echo "build did not produce $app" >&2; exit 1; }

echo "smoke test: $app --version"
QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" "$app" --version

echo "built $(du -sh dist/kube9-desktop | cut -f1) in dist/kube9-desktop/"
