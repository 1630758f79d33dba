"""The details pane: key fields and the YAML of the selected object; Secret values masked until revealed."""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import functools
import html
import logging
import re
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.kube.containers import container_document, field_path
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.kinds import Kind
from kube9_desktop.kube.rows import Row
from kube9_desktop.kube.secret_mask import mask_secret
from kube9_desktop.model import render
from kube9_desktop.model.nodes import NodeType, TreeNode
from kube9_desktop.text import show_one_line
from kube9_desktop.ui.events_view import EventsTable

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService


log = logging.getLogger(__name__)

#: Bytes of a binary Secret value shown as hex (the size is always shown in full).
HEX_SHOWN = 1024


class _Block(str):
    """A multi-line text that YAML shows as a literal block (``|``), as it reads in a file."""


@functools.cache
def _dumper() -> type:
    """PyYAML's dumper with literal blocks (yaml imported on first use: not before the window is first shown)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(_Block, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style="|"))
    return Dumper


def to_yaml(obj: dict[str, Any]) -> str:
    """Block-style YAML, keys in the server's order (like ``kubectl get -o yaml``)."""
    import yaml

    return yaml.dump(obj, Dumper=_dumper(), sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=120)


def is_secret_object(obj: dict[str, Any]) -> bool:
    """Whether an object the server returned is a Secret, by its own ``kind`` (never by the row it was asked for:
    a misbehaving server or proxy can answer a Pod's GET with a Secret)."""
    return obj.get("kind") == "Secret"


def decode_value(value: Any) -> str:
    """A Secret ``data`` value as a reader wants it: base64-decoded text, or for binary data its size and hex.

    Text with control characters other than line breaks and tabs counts as binary: shown raw, such bytes could
    reorder or hide what is displayed.
    """
    if not isinstance(value, str):
        return str(value)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return f"<not base64> {value}"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c in "\n\t" for c in text):
        return _Block(text) if "\n" in text.rstrip("\n") else text
    shown = raw[:HEX_SHOWN].hex(" ")
    more = f" … ({len(raw) - HEX_SHOWN} more bytes)" if len(raw) > HEX_SHOWN else ""
    return f"<binary, {len(raw)} bytes> {shown}{more}"


def reveal_secret(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of a Secret with its ``data`` values decoded for reading (see :func:`decode_value`)."""
    out = copy.deepcopy(obj)
    if isinstance(out.get("data"), dict):
        out["data"] = {k: decode_value(v) for k, v in out["data"].items()}
    return out


class YamlHighlighter(QSyntaxHighlighter):
    """Keys, strings, numbers/booleans and comments in distinct colours."""

    def __init__(self, parent: Any) -> None:
        super().__init__(parent)

        def fmt(colour: str, bold: bool = False) -> QTextCharFormat:
            f = QTextCharFormat()
            f.setForeground(QColor(colour))
            if bold:
                f.setFontWeight(QFont.Weight.Bold)
            return f

        self.rules = [
            (QRegularExpression(r"^\s*(- )?[\w./-]+(?=:)"), fmt("#1f5fbf", True)),
            # The value alone (the colon stays the key's punctuation).
            (QRegularExpression(r"(?<=:)\s+(true|false|null|[-+]?\d+(\.\d+)?)\s*$"), fmt("#a0522d")),
            (QRegularExpression(r"(['\"]).*\1"), fmt("#2e7d32")),
        ]
        self.comment = fmt("#8a8f98")

    def highlightBlock(self, text: str) -> None:
        for rx, f in self.rules:
            it = rx.globalMatch(text)
            while it.hasNext():
                m = it.next()
                self.setFormat(m.capturedStart(), m.capturedLength(), f)
        start = comment_start(text)
        if start >= 0:
            self.setFormat(start, len(text) - start, self.comment)


def comment_start(line: str) -> int:
    """Where a YAML comment starts in ``line`` (-1: none): a ``#`` at the start or after a blank, outside quotes.

    A ``#`` inside a value (``colour: '#fff'``, ``url: http://x/#top``) starts no comment, as YAML reads it.
    """
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"" and (i == 0 or line[i - 1] in " \t:-[{,"):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return i
    return -1


class DetailsPane(QWidget):
    """Shows the selected object: a header, key fields and its YAML.

    The object is fetched fresh on selection (never from a list cache), so what is shown is never older than the
    kind's TTL.

    Signals:
        failed(KubeError): an action the user started here failed (Copy YAML of a row); the window shows it.
    """

    failed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service: KubeService | None = None
        self._task: asyncio.Future[Any] | None = None
        self._copy_task: asyncio.Future[None] | None = None  # "Copy YAML" from the tree: fetch, then copy
        self._obj: dict[str, Any] | None = None
        self._kind: Kind | None = None
        self.revealed = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.title = QLabel("Select a resource to see its details.")
        self.title.setObjectName("detailsTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # a name from the server is text, never markup
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        layout.addWidget(self.title)
        self.form_host = QWidget(self)
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form_host)
        bar = QHBoxLayout()
        self.reveal_button = QPushButton("Reveal values", self)
        self.reveal_button.setToolTip("Show the Secret's values in clear text, decoded from base64")
        self.reveal_button.clicked.connect(self.reveal)
        self.reveal_button.setVisible(False)
        self.hide_button = QPushButton("Hide values", self)
        self.hide_button.setToolTip("Mask the Secret's values again")
        self.hide_button.clicked.connect(self.hide_values)
        self.hide_button.setVisible(False)
        self.copy_button = QPushButton("Copy YAML", self)
        self.copy_button.clicked.connect(self.copy_yaml)
        self.copy_button.setEnabled(False)
        bar.addWidget(self.reveal_button)
        bar.addWidget(self.hide_button)
        bar.addStretch(1)
        bar.addWidget(self.copy_button)
        layout.addLayout(bar)
        self.yaml_view = QPlainTextEdit(self)
        self.yaml_view.setReadOnly(True)
        self.yaml_view.setObjectName("yamlView")
        self.yaml_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.yaml_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.highlighter = YamlHighlighter(self.yaml_view.document())
        # YAML and the object's live events (never cached), side by side as tabs.
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.yaml_view, "YAML")
        self.events = EventsTable(self)
        self.tabs.addTab(self.events, "Events")
        layout.addWidget(self.tabs, 1)
        self._yaml_note = ""  # comment lines above the YAML (a container's: where it comes from)

    # ------------------------------------------------------------------ showing things

    def clear(self) -> None:
        """Show nothing."""
        self._cancel()
        self.events.close_streams()
        self.events.model.set_rows([])
        self.events.note.hide()
        self._obj = None
        self._kind = None
        self._yaml_note = ""
        self._set_title("Select a resource to see its details.")
        self._set_fields([])
        self.yaml_view.setPlainText("")
        for i in range(self.tabs.count()):
            self.tabs.setTabEnabled(i, True)
            self.tabs.setTabToolTip(i, "")
        self.reveal_button.setVisible(False)
        self.hide_button.setVisible(False)
        self.copy_button.setEnabled(False)

    def show_node(self, node: TreeNode) -> None:
        """A non-object row: show what it is (an error row shows its message and hint)."""
        self.clear()
        if node.type is NodeType.ERROR and node.error is not None:
            e = node.error
            self._set_title(e.title)
            self._set_fields([("Message", e.message), ("What to do", e.hint), ("Context", e.context)])
        elif node.type is NodeType.CONTEXT:
            self._set_title(f"Context {node.context}")
            fields = [("Server version", node.status or "—")]
            if self.service is not None:
                try:
                    info = self.service.kubeconfig.context(node.context)
                    fields += [("Cluster", info.cluster), ("Server", info.server), ("User", info.user),
                               ("Namespace", info.namespace), ("Authentication", info.auth)]
                except KubeError:
                    pass
            self._set_fields(fields)
        elif node.type is NodeType.CONTAINER and node.row is not None:
            # A pod's container: its state as the pod reported it; double-click opens its log.
            r = node.row
            role = r.cells.get("Role", "container")
            self._set_title(f"{'Container' if role == 'container' else role.title() + ' container'} {r.name}")
            fields = [("Pod", r.cells.get("Pod", "")), ("Namespace", r.namespace or "—"), ("State", r.status),
                      ("Ready", "yes" if r.ready == "1/1" else "no"), ("Restarts", r.restarts),
                      ("Image", r.cells.get("Image", ""))]
            if r.cells.get("Last State"):
                fields.append(("Last state", r.cells["Last State"]))
            if r.created is not None:
                fields.append(("Since", render.format_age(r.created)))
            self._set_fields(fields)
            if self.service is not None and r.namespace and r.cells.get("Pod"):
                # Its YAML: its spec and status from the pod (fetched fresh); its events: the pod's about it.
                self.yaml_view.setPlainText("Loading…")
                self._task = asyncio.ensure_future(self._fetch_container(node.context, r))
        elif node.type is NodeType.FLEET:
            self._set_title(node.label)
            names = self.service.kubeconfig.names() if self.service is not None else []
            self._set_fields([("Contexts", str(len(names))),
                              ("Shown", "in the All clusters tab below: each context probed on its own; "
                                        "click a context's name there to open it")])
            self._show_fleet_summary()
        elif node.type is NodeType.NOTE:
            self._set_title("Note")
            why = [("Why", node.error.one_line())] if node.error is not None else []
            self._set_fields([("Message", node.label), *why, ("Context", node.context)])
        elif node.type is NodeType.LIST:
            self._set_title(node.display_label)
            self._set_fields([("Namespace", node.namespace or "all")])
            if node.kind is not None and node.kind.key == "events" and self.service is not None:
                # An Events row: the namespace's (or every namespace's) events, live, newest first.
                from kube9_desktop.kube.events import EventQuery  # imported with the first events shown

                self.events.start(self.service, node.context, EventQuery(namespace=node.namespace))
                self.tabs.setCurrentWidget(self.events)
        # A row with nothing for a tab (a folder, a list, a context, a message): the tab is off and says why.
        if not self.yaml_text():
            self._tab_off(self.yaml_view, "Folders, lists and messages have no YAML: select an object")
        events_row = node.type is NodeType.LIST and node.kind is not None and node.kind.key == "events"
        if node.type is not NodeType.CONTAINER and not events_row and self.tabs.isTabEnabled(
                self.tabs.indexOf(self.events)):
            self._tab_off(self.events, "Select an object, or an Events row, for events")

    def _show_fleet_summary(self) -> None:
        """The "All clusters" row: its YAML tab lists the kubeconfig's contexts (what each points at, never a
        credential); events belong to one cluster, so its Events tab is off and says why."""
        contexts: list[dict[str, str]] = []
        if self.service is not None:
            for c in self.service.kubeconfig.contexts:
                contexts.append({"name": c.name, "cluster": c.cluster, "server": c.server or "(missing)",
                                 "user": c.user or "(none)", "authentication": c.auth, "namespace": c.namespace})
        self._obj = {"contexts": contexts}
        self._yaml_note = ("# All clusters: the contexts of your kubeconfig.\n"
                           "# Each is probed on its own in the All clusters tab below;\n"
                           "# select a context's row for its objects and events.\n")
        self.copy_button.setEnabled(bool(contexts))
        self._render_yaml()
        self._tab_off(self.events, "Events belong to one cluster: select a context, or a row under it")
        self.tabs.setCurrentWidget(self.yaml_view)

    def _tab_off(self, page: QWidget, reason: str) -> None:
        """Disable the tab of ``page``; its tooltip says why (a blank tab said nothing)."""
        i = self.tabs.indexOf(page)
        self.tabs.setTabEnabled(i, False)
        self.tabs.setTabToolTip(i, reason)

    async def _fetch_container(self, context: str, r: Row) -> None:
        assert self.service is not None
        pod_name, role = r.cells.get("Pod", ""), r.cells.get("Role", "container")
        try:
            pod = await self.service.get(context, "pods", r.namespace, pod_name)
        except KubeError as e:
            self.yaml_view.setPlainText(f"# {e.title}\n# {e.message}\n# {e.hint}")
            return
        doc = container_document(pod, r.name, role)
        if doc is None:
            self.yaml_view.setPlainText(f"# Pod {pod_name} has no container {r.name} any more.")
            return
        path = field_path(role, r.name)
        self._obj = doc
        self._yaml_note = f"# Container {r.name} of pod {r.namespace}/{pod_name}:\n# {path} and its status\n"
        self.copy_button.setEnabled(True)
        self._render_yaml()
        uid = str((pod.get("metadata") or {}).get("uid", ""))
        from kube9_desktop.kube.events import EventQuery  # imported with the first events shown

        self.events.start(self.service, context, EventQuery(namespace=r.namespace, object_kind="Pod",
                                                            object_name=pod_name, object_uid=uid, field_path=path))

    def show_object(self, context: str, kind: Kind, row: Row) -> None:
        """Fetch and show one object."""
        self.clear()
        self._kind = kind
        self._set_title(f"{kind.kind} {row.name}")
        self._set_fields(self._row_fields(kind, row))
        self.yaml_view.setPlainText("Loading…")
        if self.service is None:
            return
        self._task = asyncio.ensure_future(self._fetch(context, kind, row))

    def _row_fields(self, kind: Kind, row: Row) -> list[tuple[str, str]]:
        fields = [("Namespace", row.namespace or "—")] if kind.namespaced else []
        if row.status:
            fields.append(("Status", row.status))
        if row.ready:
            fields.append(("Ready", row.ready))
        if row.restarts:
            fields.append(("Restarts", row.restarts))
        if row.created is not None:
            fields.append(("Age", render.format_age(row.created)))
        for col, val in row.cells.items():
            if col not in ("Name", "Status", "Ready", "Restarts", "Age") and val and val != "<none>":
                fields.append((col, val))
        if row.labels:
            fields.append(("Labels", ", ".join(f"{k}={v}" for k, v in sorted(row.labels.items()))))
        return fields[:14]

    async def _fetch(self, context: str, kind: Kind, row: Row) -> None:
        assert self.service is not None
        try:
            obj = await self.service.get(context, kind.key, row.namespace, row.name)
        except KubeError as e:
            self.yaml_view.setPlainText(f"# {e.title}\n# {e.message}\n# {e.hint}")
            return
        self._obj = obj
        uid = str((obj.get("metadata") or {}).get("uid", ""))
        if uid and kind.key != "events":
            from kube9_desktop.kube.events import EventQuery  # imported with the first events shown

            self.events.start(self.service, context, EventQuery(namespace=row.namespace, object_kind=kind.kind,
                                                                object_name=row.name, object_uid=uid))
        if is_secret_object(obj) and not (self._kind is not None and self._kind.kind == "Secret"):
            log.warning("asked for %s %s, the server answered with a Secret", kind.kind, row.name)
            self._set_title(f"Secret (the server's answer for {kind.kind} {row.name})")
        self.revealed = False
        self.copy_button.setEnabled(True)
        self._render_yaml()

    @property
    def is_secret(self) -> bool:
        """Whether the object shown is a Secret: by the object's own ``kind``, or by the row's kind."""
        by_row = self._kind is not None and self._kind.kind == "Secret"
        return by_row or (self._obj is not None and is_secret_object(self._obj))

    def _render_yaml(self) -> None:
        if self._obj is None:
            return
        secret = self.is_secret
        self.reveal_button.setVisible(secret and not self.revealed)
        self.hide_button.setVisible(secret and self.revealed)
        obj = self._obj
        if secret:
            obj = reveal_secret(obj) if self.revealed else mask_secret(obj)
        self.yaml_view.setPlainText(self._yaml_note + to_yaml(obj))

    def reveal(self) -> None:
        """Show the Secret's values, decoded from base64 (text as text; binary as its size and hex)."""
        self.revealed = True
        self._render_yaml()

    def hide_values(self) -> None:
        """Mask the Secret's values again."""
        self.revealed = False
        self._render_yaml()

    def yaml_text(self) -> str:
        """The YAML currently shown."""
        return self.yaml_view.toPlainText()

    def copy_yaml(self) -> None:
        """Copy the object's YAML; for a Secret, ask first (the clipboard is readable by other programs)."""
        if self._obj is None:
            return
        if self.is_secret and not self.confirm_copy_secret():
            return
        QGuiApplication.clipboard().setText(to_yaml(self._obj))

    def confirm_copy_secret(self) -> bool:
        """Ask before putting a Secret's values on the clipboard."""
        answer = QMessageBox.question(self, "Copy Secret?",
                                      "The YAML contains the Secret's values in clear text. Other programs can "
                                      "read the clipboard. Copy anyway?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def copy_yaml_of(self, node: TreeNode) -> None:
        """Context menu "Copy YAML" on any object row: ask first for Secrets, then fetch it and copy."""
        if self.service is None or node.kind is None or node.row is None:
            return
        kind, row, ctx, svc = node.kind, node.row, node.context, self.service
        # Ask here, in the slot, before anything runs: a modal question inside the coroutine would spin a nested
        # Qt loop inside a task step (see tests/test_loop_discipline.py).
        if kind.kind == "Secret" and not self.confirm_copy_secret():
            return

        async def run() -> None:
            try:
                obj = await svc.get(ctx, kind.key, row.namespace, row.name)
            except KubeError as e:
                self.failed.emit(e)  # the window's error banner: never a modal box per failure
                return
            if is_secret_object(obj) and kind.kind != "Secret":
                # Nobody was asked: a server that answers a Pod's GET with a Secret does not get it copied.
                self.failed.emit(KubeError(
                    ErrorKind.PROTOCOL, "Not copied",
                    f"The server answered the request for {kind.kind} {row.name} with a Secret; its YAML was not "
                    "copied.", "The server, or a proxy in front of it, is misbehaving.", context=ctx))
                return
            QGuiApplication.clipboard().setText(to_yaml(obj))

        self._copy_task = asyncio.ensure_future(run())

    def _set_title(self, text: str) -> None:
        """The pane's title, on one line as the server's names read (no forged line, no reordering)."""
        self.title.setText(show_one_line(text))

    def _set_fields(self, fields: list[tuple[str, str]]) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        for name, value in fields:
            if not value:
                continue
            # Names, values and a kind's column names come from the server: shown as plain text, in their order.
            val = QLabel(show_one_line(_elide(str(value))))
            val.setTextFormat(Qt.TextFormat.PlainText)
            val.setWordWrap(True)
            val.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.form.addRow(QLabel(f"<b>{html.escape(show_one_line(name))}</b>"), val)

    def _cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    async def wait(self) -> None:
        """Wait for the pending fetch, if any."""
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                pass

    async def shutdown(self) -> None:
        """Cancel the pending fetch and stop the events feed."""
        task = self._task
        self._cancel()
        self.events.close_streams()
        if task is not None:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass


def _elide(text: str, limit: int = 400) -> str:
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= limit else text[:limit] + "…"
