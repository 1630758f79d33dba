#!/usr/bin/env bash
# Install kube9 Desktop's desktop entry, AppStream metainfo and icon for the current user.
#
# Usage: packaging/linux/install.sh [--uninstall]
#   PREFIX   install prefix (default: $HOME/.local); files go to $PREFIX/share/...
#
# The kube9-desktop executable itself comes from `pip install` (gui script) or the
# PyInstaller build; this script only wires it into the desktop menu.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
prefix="${PREFIX:-$HOME/.local}"
share="$prefix/share"
app_id="io.github.kube9.Desktop"

desktop_src="$here/$app_id.desktop"
metainfo_src="$here/$app_id.metainfo.xml"
icon_src="$repo/resources/icons/kube9-desktop.svg"

desktop_dst="$share/applications/$app_id.desktop"
metainfo_dst="$share/metainfo/$app_id.metainfo.xml"
icon_dst="$share/icons/hicolor/scalable/apps/kube9-desktop.svg"

refresh_caches() {
  if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$share/applications" || true
  fi
  if command -v gtk-update-icon-cache >/dev/null 2>&1 && [[ -f "$share/icons/hicolor/index.theme" ]]; then
    gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
  fi
}

if [[ "${1:-}" == "--uninstall" ]]; then
  rm -f "$desktop_dst" "$metainfo_dst" "$icon_dst"
  refresh_caches
  echo "removed kube9 Desktop menu entry from $share"
  exit 0
fi

for f in "$desktop_src" "$metainfo_src" "$icon_src"; do
  [[ -f "$f" ]] || { echo "missing $f" >&2; exit 1; }
done

install -Dm644 "$desktop_src" "$desktop_dst"
install -Dm644 "$metainfo_src" "$metainfo_dst"
install -Dm644 "$icon_src" "$icon_dst"
refresh_caches

echo "installed:"
echo "  $desktop_dst"
echo "  $metainfo_dst"
echo "  $icon_dst"
if ! command -v kube9-desktop >/dev/null 2>&1; then
  echo "note: kube9-desktop is not on PATH; install it with pip (or put the PyInstaller build's folder on PATH)." >&2
fi
