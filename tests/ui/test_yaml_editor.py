"""Edit YAML and Create/Apply from YAML against kube9-sim: PUT at the opened version, the 409 diff and
reload-and-reapply, 422 causes by line, masked Secrets, dry run before apply; kubectl referees the results."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from PySide6.QtWidgets import QCheckBox, QLabel, QPushButton, QWidget

from kube9_desktop.commands import load_all
from kube9_desktop.commands.registry import REGISTRY, Target
from kube9_desktop.kube import manifests
from kube9_desktop.kube.kinds import KINDS
from kube9_desktop.ui.apply_yaml import ApplyYaml
from kube9_desktop.ui.ask_dialogs import ConfirmDialog
from kube9_desktop.ui.details import comment_start
from kube9_desktop.ui.forwards_panel import ForwardsPanel
from kube9_desktop.ui.yaml_editor import YamlEditor

NS = "team-d"


def make_configmap(sim: Any, name: str, data: dict[str, str]) -> dict[str, Any]:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NS}, "data": data}
    created: dict[str, Any] = sim.request("POST", f"/api/v1/namespaces/{NS}/configmaps", body)
    return created


@pytest.fixture
def service(service_factory: Any) -> Any:
    svc = service_factory()
    if getattr(svc, "writes", None) is None:
        pytest.fail("the data layer has no writes (service.writes)")
    return svc


@pytest.fixture
def editor_for(qtbot: Any, service: Any, run: Any) -> Any:
    made: list[YamlEditor] = []

    def make(kind: str, name: str, namespace: str | None = NS) -> YamlEditor:
        ed = YamlEditor(service, Target("sim-admin", KINDS[kind], namespace, name))
        qtbot.addWidget(ed)
        ed.resize(900, 600)
        ed.show()
        run(ed.load())
        made.append(ed)
        return ed

    yield make
    for ed in made:
        ed.close_streams()


def test_edit_applies_at_the_opened_version(editor_for: Any, sim: Any, run: Any) -> None:
    make_configmap(sim, "ed-plain", {"k": "v1"})
    ed = editor_for("configmaps", "ed-plain")
    assert ed.state == "ready" and "k: v1" in ed.text()
    opened_rv = ed.resource_version
    ed.edit.setPlainText(ed.text().replace("k: v1", "k: v2"))
    run(ed.apply())
    assert ed.state == "applied", ed.status.text()
    assert sim.kubectl("get", "cm", "ed-plain", "-n", NS, "-o", "jsonpath={.data.k}") == "v2"
    assert int(ed.resource_version) > int(opened_rv)
    assert "k: v2" in ed.text()


def test_conflict_shows_the_server_change_and_reapplies_on_top(editor_for: Any, sim: Any, run: Any) -> None:
    make_configmap(sim, "ed-conflict", {"k": "v1", "other": "x"})
    ed = editor_for("configmaps", "ed-conflict")
    # Someone else changes it meanwhile.
    sim.kubectl("patch", "cm", "ed-conflict", "-n", NS, "--type=merge", "-p", '{"data":{"other":"theirs"}}')
    ed.edit.setPlainText(ed.text().replace("k: v1", "k: mine"))
    run(ed.apply())
    assert ed.state == "conflict"
    assert ed.conflict.isVisible()
    diff = ed.diff_view.toPlainText()
    assert "-  other: x" in diff and "+  other: theirs" in diff
    assert "the object has been modified" in ed.status.text()
    data = json.loads(sim.kubectl("get", "cm", "ed-conflict", "-n", NS, "-o", "json"))["data"]
    assert data == {"k": "v1", "other": "theirs"}  # nothing overwritten
    ed.reload_and_reapply()
    assert "k: mine" in ed.text() and "other: theirs" in ed.text()
    run(ed.apply())
    assert ed.state == "applied", ed.status.text()
    data = json.loads(sim.kubectl("get", "cm", "ed-conflict", "-n", NS, "-o", "json"))["data"]
    assert data == {"k": "mine", "other": "theirs"}


def test_invalid_shows_causes_next_to_their_lines(editor_for: Any, sim: Any, run: Any) -> None:
    dep = sim.request("GET", f"/apis/apps/v1/namespaces/{NS}/deployments")["items"][0]["metadata"]["name"]
    ed = editor_for("deployments", dep)
    text = ed.text()
    import re

    bad = re.sub(r"(?m)^  replicas: \d+$", "  replicas: -1", text, count=1)
    assert bad != text
    ed.edit.setPlainText(bad)
    run(ed.apply())
    assert ed.state == "invalid", ed.status.text()
    line = manifests.field_line(bad, "spec.replicas")
    assert line is not None and ed.marked_lines == [line]
    items = [ed.causes.item(i).text() for i in range(ed.causes.count())]
    assert items and items[0].startswith(f"Line {line} · spec.replicas: Invalid value: -1")
    assert ed.causes.isVisible()
    assert ed.edit.annotations[line].startswith("spec.replicas: Invalid value: -1")  # written beside the line
    assert ed.text() == bad  # the user's text is kept


def test_bad_yaml_is_refused_with_its_line_and_nothing_is_sent(editor_for: Any, sim: Any, run: Any) -> None:
    make_configmap(sim, "ed-bad", {"k": "v"})
    ed = editor_for("configmaps", "ed-bad")
    rv = ed.resource_version
    ed.edit.setPlainText(ed.text() + "  broken: [\n")
    run(ed.apply())
    assert ed.state == "invalid" and "YAML error" in ed.status.text()
    assert ed.marked_lines
    obj = sim.request("GET", f"/api/v1/namespaces/{NS}/configmaps/ed-bad")
    assert obj["metadata"]["resourceVersion"] == rv


def test_secret_values_stay_masked_and_survive_an_edit(editor_for: Any, sim: Any, run: Any) -> None:
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ed-secret", "namespace": NS},
            "data": {"password": "c2VjcmV0"}}
    sim.request("POST", f"/api/v1/namespaces/{NS}/secrets", body)
    ed = editor_for("secrets", "ed-secret")
    assert "c2VjcmV0" not in ed.text() and manifests.MASK in ed.text()
    assert ed.reveal_button.isVisible()
    ed.edit.setPlainText(ed.text().replace("name: ed-secret", "name: ed-secret\n  labels:\n    edited: 'yes'"))
    run(ed.apply())
    assert ed.state == "applied", ed.status.text()
    obj = sim.request("GET", f"/api/v1/namespaces/{NS}/secrets/ed-secret")
    assert obj["data"] == {"password": "c2VjcmV0"} and obj["metadata"]["labels"] == {"edited": "yes"}
    assert "c2VjcmV0" not in ed.text()
    ed.reveal()
    assert "c2VjcmV0" in ed.text()


@pytest.fixture
def pane(qtbot: Any, service: Any) -> ApplyYaml:
    p = ApplyYaml(service, "sim-admin", namespace=NS)
    qtbot.addWidget(p)
    p.show()
    return p


def test_apply_from_yaml_dry_runs_first(pane: ApplyYaml, sim: Any, run: Any, tmp_path: Any) -> None:
    # An object kube9 applied before (fields owned by our manager: changing them is no conflict).
    f = tmp_path / "existing.yaml"
    f.write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ap-existing\n  namespace: {NS}\ndata:\n"
                 "  k: old\n")
    sim.kubectl("apply", "--server-side", "--field-manager=kube9-desktop", "--validate=false", "-f", str(f))
    pane.edit.setPlainText("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ap-new\ndata:\n  a: b\n---\n"
                           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ap-existing\ndata:\n  k: new\n")
    assert pane.apply() is None  # no dry run yet
    run(pane.dry_run())
    assert pane.state == "checked", pane.status.text()
    assert [(o.what, o.outcome) for o in pane.outcomes] == [(f"configmaps {NS}/ap-new", "would be created"),
                                                         (f"configmaps {NS}/ap-existing", "would be configured")]
    assert "-  k: old" in pane.outcomes[1].diff and "+  k: new" in pane.outcomes[1].diff
    # The dry run changed nothing.
    assert subprocess.run(["kubectl", "--kubeconfig", sim.kubeconfig, "--context", "sim-admin", "get", "cm",
                           "ap-new", "-n", NS], capture_output=True, timeout=60).returncode != 0
    assert pane.apply_button.isEnabled()
    pane.edit.appendPlainText("# edited")
    assert not pane.apply_button.isEnabled()  # changed since the dry run
    run(pane.dry_run())
    run(pane.apply())
    assert pane.state == "applied", pane.status.text()
    assert sim.kubectl("get", "cm", "ap-new", "-n", NS, "-o", "jsonpath={.data.a}") == "b"
    assert sim.kubectl("get", "cm", "ap-existing", "-n", NS, "-o", "jsonpath={.data.k}") == "new"
    managers = json.loads(sim.kubectl("get", "cm", "ap-new", "-n", NS, "-o", "json", "--show-managed-fields"))
    assert "kube9-desktop" in {m["manager"] for m in managers["metadata"]["managedFields"]}


def test_apply_conflict_with_another_manager_needs_force(pane: ApplyYaml, sim: Any, run: Any,
                                                         tmp_path: Any) -> None:
    f = tmp_path / "cm.yaml"
    f.write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ap-owned\n  namespace: {NS}\ndata:\n"
                 "  k: theirs\n")
    sim.kubectl("apply", "--server-side", "--field-manager=other-tool", "--validate=false", "-f", str(f))
    pane.open_file(str(f))
    pane.edit.setPlainText(pane.edit.toPlainText().replace("k: theirs", "k: ours"))
    run(pane.dry_run())
    assert pane.state == "failed"
    step = pane.outcomes[0].line()
    assert "conflicts with other field managers" in step and "data.k" in step and "other-tool" in step
    assert "tick Force" in pane.results.toPlainText()
    pane.force_box.setChecked(True)
    run(pane.dry_run())
    assert pane.state == "checked", pane.status.text()
    run(pane.apply())
    assert sim.kubectl("get", "cm", "ap-owned", "-n", NS, "-o", "jsonpath={.data.k}") == "ours"


def test_apply_refuses_unreadable_input(pane: ApplyYaml, run: Any, tmp_path: Any) -> None:
    pane.edit.setPlainText("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n")
    run(pane.dry_run())
    assert pane.state == "invalid" and "line 5" in pane.status.text().lower()
    pane.open_file(str(tmp_path / "missing.yaml"))
    assert "Cannot read" in pane.status.text()
    assert "name: [x" in pane.edit.toPlainText()  # the text shown is kept


def test_yaml_is_highlighted_keys_values_strings_and_comments(editor_for: Any, sim: Any, run: Any) -> None:
    make_configmap(sim, "ed-colours", {"colour": "#fff", "count": "3"})
    ed = editor_for("configmaps", "ed-colours")
    ed.edit.appendPlainText("# a comment the user typed\nreplicas: 3  # trailing\nlimit: 5")
    ed.highlighter.rehighlight()

    def colours(line_text: str) -> dict[str, str]:
        """Each coloured run of the line that starts with ``line_text``: its text -> its colour."""
        block = ed.edit.document().firstBlock()
        while block.isValid() and not block.text().startswith(line_text):
            block = block.next()
        assert block.isValid(), line_text
        return {block.text()[f.start:f.start + f.length]: f.format.foreground().color().name()
                for f in block.layout().formats()}

    key, number, string, comment = "#1f5fbf", "#a0522d", "#2e7d32", "#8a8f98"
    assert colours("  colour:") == {"  colour": key, "'#fff'": string}  # a '#' in a value starts no comment
    assert colours("kind:")["kind"] == key
    assert colours("# a comment") == {"# a comment the user typed": comment}
    trailing = colours("replicas: 3")
    assert trailing["replicas"] == key and trailing["# trailing"] == comment
    assert colours("limit:") == {"limit": key, " 5": number}


@pytest.mark.parametrize("line,where", [
    ("# top", 0), ("a: b  # why", 6), ("url: http://x/#top", -1), ("c: '#fff'", -1), ('c: "a #b" # real', 10),
    ("k: it's # note", 8), ("- '#' # x", 6), ("k: a#b", -1)])
def test_a_comment_starts_at_a_hash_after_a_blank_outside_quotes(line: str, where: int) -> None:
    assert comment_start(line) == where


def clipped(widget: QWidget) -> list[str]:
    """The shown buttons, check boxes and one-line labels in ``widget`` narrower than their text needs.

    A button needs its size hint and at least its text's advance plus an average character either side (the
    frame and margin Qt's styles draw around the text); a check box or a label that does not wrap, its size hint.
    """
    found = []
    for child in widget.findChildren(QWidget):
        if not child.isVisible():
            continue
        need = 0
        if isinstance(child, QPushButton):
            metrics = child.fontMetrics()
            need = max(child.sizeHint().width(),
                       metrics.horizontalAdvance(child.text()) + 2 * metrics.averageCharWidth())
        elif isinstance(child, QCheckBox) or (isinstance(child, QLabel) and not child.wordWrap()):
            need = child.sizeHint().width()
        if child.width() < need:
            found.append(f"{type(child).__name__} {child.text()!r}: {child.width()} px < {need} px")
    return found


def test_no_button_or_label_is_clipped_at_the_default_size(editor_for: Any, pane: ApplyYaml, qtbot: Any,
                                                           sim: Any) -> None:
    """The editor, the Apply pane, the Port forwards panel and Delete's confirmation (with its options) show
    every button, check box and one-line label whole at the size they open at (an audit reported "Copy as
    kubectl" cut off in an offscreen render)."""
    make_configmap(sim, "ed-clip", {"k": "v"})
    ed = editor_for("configmaps", "ed-clip")
    ed.resize(ed.minimumSizeHint())  # the narrowest the dock can make it
    forwards = ForwardsPanel()
    qtbot.addWidget(forwards)
    forwards.show()
    load_all()
    delete = REGISTRY.get("delete")
    confirm = ConfirmDialog(f"Delete pod {'x' * 40} in {NS}?", options=delete.options(),
                            args=delete.parser().parse_args([]))
    qtbot.addWidget(confirm)
    confirm.show()
    try:
        for widget in (ed, pane, forwards, confirm):
            assert clipped(widget) == [], widget.objectName() or type(widget).__name__
    finally:
        forwards.shutdown()
