"""Quick packaging checks: desktop entry, AppStream metainfo, icons and the PyInstaller spec.

These do not run the PyInstaller build (``make package`` does); they make sure the files the
build and the Linux desktop integration rely on are valid and consistent.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "packaging" / "linux"
APP_ID = "io.github.kube9.Desktop"
DESKTOP_FILE = LINUX / f"{APP_ID}.desktop"
METAINFO_FILE = LINUX / f"{APP_ID}.metainfo.xml"
SPEC_FILE = ROOT / "packaging" / "pyinstaller" / "kube9-desktop.spec"
BUILD_SCRIPT = ROOT / "packaging" / "build.sh"
ICONS = ROOT / "resources" / "icons"
APP_ICON = ICONS / "kube9-desktop.svg"
GUI_SCRIPT = "kube9-desktop"

TREE_ICONS = [
    "context", "category", "node", "namespace", "pod", "deployment", "replicaset", "statefulset",
    "daemonset", "job", "cronjob", "service", "ingress", "configmap", "secret", "pvc", "pv",
    "storageclass", "event", "crd", "custom", "error", "warning", "loading", "info", "status-ok",
    "status-warn", "status-error", "status-unknown", "refresh", "settings", "filter",
]
SVG_NS = "{http://www.w3.org/2000/svg}"

INSTALL_HINT = (
    "is not installed: run .ci/run (installs it), or `apt-get install -y desktop-file-utils appstream`"
)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} {INSTALL_HINT}")
    return path


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP_FILE, encoding="utf-8")
    return parser["Desktop Entry"]


# --- desktop entry and metainfo ----------------------------------------------------------------


def test_desktop_file_validates() -> None:
    result = subprocess.run(
        [_tool("desktop-file-validate"), str(DESKTOP_FILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error:" not in result.stdout + result.stderr


def test_metainfo_validates() -> None:
    result = subprocess.run(
        [_tool("appstreamcli"), "validate", "--no-net", str(METAINFO_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_desktop_entry_matches_icon_and_gui_script() -> None:
    entry = _desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "kube9 Desktop"
    assert entry["Exec"].split()[0] == GUI_SCRIPT
    assert entry["Icon"] == APP_ICON.stem
    assert APP_ICON.is_file()
    assert entry["StartupWMClass"] == GUI_SCRIPT
    assert {"Development", "System"} <= set(filter(None, entry["Categories"].split(";")))
    assert entry["Keywords"].strip()

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert GUI_SCRIPT in pyproject["project"]["gui-scripts"]


def test_metainfo_content() -> None:
    root = ET.parse(METAINFO_FILE).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("metadata_license") == "CC0-1.0"
    assert root.findtext("project_license") == "Apache-2.0"
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP_FILE.name
    assert root.find("content_rating") is not None
    developer = root.find("developer")
    assert developer is not None and developer.get("id") and developer.findtext("name")
    releases = root.findall("releases/release")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert any(r.get("version") == pyproject["project"]["version"] for r in releases)


def test_install_script_is_valid_bash() -> None:
    script = LINUX / "install.sh"
    assert os.access(script, os.X_OK), "install.sh should be executable"
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_install_script_user_install(tmp_path: Path) -> None:
    env = {**os.environ, "PREFIX": str(tmp_path)}
    subprocess.run(["bash", str(LINUX / "install.sh")], check=True, env=env, capture_output=True)
    share = tmp_path / "share"
    assert (share / "applications" / DESKTOP_FILE.name).is_file()
    assert (share / "metainfo" / METAINFO_FILE.name).is_file()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / APP_ICON.name).is_file()


# --- icons ------------------------------------------------------------------------------------


def _all_svgs() -> list[Path]:
    return sorted(ICONS.glob("*.svg"))


def test_expected_icons_exist() -> None:
    missing = [name for name in TREE_ICONS if not (ICONS / f"{name}.svg").is_file()]
    assert not missing, f"missing icons: {missing}"
    assert APP_ICON.is_file()


@pytest.mark.parametrize("svg", _all_svgs(), ids=lambda p: p.name)
def test_icon_is_well_formed_svg(svg: Path) -> None:
    root = ET.parse(svg).getroot()
    assert root.tag == f"{SVG_NS}svg"
    expected = "0 0 128 128" if svg == APP_ICON else "0 0 16 16"
    assert root.get("viewBox") == expected


def test_icons_load_with_qt(qapp: object) -> None:
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QIcon
    from PySide6.QtSvg import QSvgRenderer

    svgs = _all_svgs()
    assert len(svgs) >= len(TREE_ICONS) + 1
    for svg in svgs:
        renderer = QSvgRenderer(str(svg))
        assert renderer.isValid(), f"{svg.name} does not load in QSvgRenderer"
        icon = QIcon(str(svg))
        assert not icon.isNull(), svg.name
        for size in (16, 22, 48):
            pixmap = icon.pixmap(QSize(size, size))
            assert not pixmap.isNull(), f"{svg.name} at {size}px"
            assert not pixmap.toImage().isNull()


def test_resources_are_package_data() -> None:
    import importlib.util
    from importlib.resources import files

    assert importlib.util.find_spec("kube9_desktop.resources") is not None, (
        "kube9_desktop.resources is not installed as a package: setuptools' packages.find does not "
        "apply the package-dir mapping, so pyproject.toml must list the packages explicitly "
        "([tool.setuptools] packages = [..., 'kube9_desktop.resources']); then reinstall with "
        "pip install -e '.[test]'"
    )
    res = files("kube9_desktop.resources")
    assert res.joinpath("icons", APP_ICON.name).is_file()
    assert res.joinpath("style.qss").is_file()


def test_stylesheet_parses(qapp: object) -> None:
    from PySide6.QtWidgets import QApplication, QTreeView

    qss = (ROOT / "resources" / "style.qss").read_text(encoding="utf-8")
    assert qss.count("{") == qss.count("}")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    previous = app.styleSheet()
    try:
        view = QTreeView()
        view.setStyleSheet(qss)  # Qt logs "Could not parse stylesheet" (a failure via pytest-qt)
        view.ensurePolished()
        view.deleteLater()
    finally:
        app.setStyleSheet(previous)


# --- PyInstaller spec and build script --------------------------------------------------------


def test_spec_compiles_and_is_complete() -> None:
    source = SPEC_FILE.read_text(encoding="utf-8")
    compile(source, str(SPEC_FILE), "exec")
    assert '"kube9_desktop" / "__main__.py"' in source
    assert (ROOT / "kube9_desktop" / "__main__.py").is_file()
    assert 'APP_NAME = "kube9-desktop"' in source
    assert 'collect_submodules("kube9_desktop")' in source
    assert "kube9_desktop.sim" in source
    assert '"kube9_desktop/resources"' in source
    for module in ("QtNetwork", "QtQml", "QtQuick", "QtWebEngineCore", "Qt3DCore", "QtMultimedia",
                   "QtPdf", "QtOpenGL"):
        assert f'"{module}"' in source, f"{module} should be excluded"
    for used in ("QtCore", "QtGui", "QtWidgets", "QtSvg"):
        assert f'"{used}"' not in source.split("UNUSED_QT_MODULES = [", 1)[1].split("]", 1)[0]


def test_build_script() -> None:
    text = BUILD_SCRIPT.read_text(encoding="utf-8")
    assert "set -euo pipefail" in text
    assert "packaging/pyinstaller/kube9-desktop.spec" in text
    assert "--distpath dist --workpath build/pyinstaller" in text
    assert "dist/kube9-desktop/kube9-desktop" in text and "--version" in text
    subprocess.run(["bash", "-n", str(BUILD_SCRIPT)], check=True)


def test_every_package_is_listed_for_setuptools() -> None:
    """A package missing from [tool.setuptools] packages works from a checkout but is absent from a wheel or a
    frozen build (kube9_desktop.commands and sim.handlers once were)."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "kube9_desktop").rglob("__init__.py")}
    assert found - listed == set()
