"""Edit YAML: an object's YAML in a bottom-dock tab, applied with PUT at the version it was opened at.

- Secret values stay masked until "Reveal values"; masked values are put back before the PUT, so editing around
  them never needs them shown.
- Apply sends ``metadata.resourceVersion`` as opened: a newer version on the server is never overwritten. The
  409 shows what changed on the server since (a diff of the opened and the current object) and offers
  "Reload and reapply" (your changes as a merge patch on top of the current object, for review before applying)
  or "Discard mine".
- A 422 lists the server's field causes with the line each field is on, and marks those lines.
- Malformed YAML is refused with its line before anything is sent; the text is never lost.

Data calls go through ``kube/edit.py`` (``load``, ``save``: a PUT through ``service.writes``).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QKeySequence,
    QPainter,
    QShortcut,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.kube import edit as kube_edit
from kube9_desktop.kube import manifests
from kube9_desktop.kube.errors import KubeError
from kube9_desktop.ui.details import YamlHighlighter
from kube9_desktop.ui.tasks import Tasks

if TYPE_CHECKING:
    from kube9_desktop.commands.registry import Target
    from kube9_desktop.kube.service import KubeService

log = logging.getLogger(__name__)

ERROR_LINE = QColor("#fde2e1")


def _without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without ``metadata.managedFields`` (as ``kubectl edit`` shows it)."""
    out = copy.deepcopy(obj)
    (out.get("metadata") or {}).pop("managedFields", None)
    return out


def kubectl_edit(target: Target) -> str:
    """``kubectl edit deployments.apps/api -n team-a --context ctx``."""
    kind = target.kind.plural + (f".{target.kind.group}" if target.kind.group else "")
    ns = f" -n {target.namespace}" if target.namespace else ""
    return f"kubectl edit {kind}/{target.name}{ns} --context {target.context}"


class AnnotatedEdit(QPlainTextEdit):
    """A plain text editor that writes a note at the end of chosen lines (the server's field causes)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.annotations: dict[int, str] = {}  # 1-based line -> note

    def set_annotations(self, notes: dict[int, str]) -> None:
        """Show ``notes`` beside their lines (an empty dict clears them)."""
        self.annotations = dict(notes)
        self.viewport().update()

    def paintEvent(self, event: Any) -> None:
        super().paintEvent(event)
        if not self.annotations:
            return
        painter = QPainter(self.viewport())
        font = QFont(self.font())
        font.setItalic(True)
        painter.setFont(font)
        painter.setPen(QColor("#b3261e"))
        metrics = self.fontMetrics()
        offset = self.contentOffset()
        margin = self.document().documentMargin()
        for line, note in self.annotations.items():
            block = self.document().findBlockByNumber(line - 1)
            if not block.isValid() or not block.isVisible():
                continue
            geom = self.blockBoundingGeometry(block).translated(offset)
            if geom.bottom() < 0 or geom.top() > self.viewport().height():
                continue
            x = margin + metrics.horizontalAdvance(block.text()) + 3 * metrics.horizontalAdvance(" ")
            painter.drawText(int(x), int(geom.top() + metrics.ascent() + 1), f"◀ {note}")
        painter.end()


class YamlEditor(QWidget):
    """Edits one object. Open with :meth:`load` (the view factory does); a tab of the bottom dock.

    Signals:
        applied(dict): the server accepted the object (its answer).
        state_changed(str): a new status line ("Applied", "Conflict", ...), for tests and the tab.
    """

    applied = Signal(dict)
    state_changed = Signal(str)

    def __init__(self, service: KubeService, target: Target, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("yamlEditor")
        self.service = service
        self.target = target
        self.setWindowTitle(f"Edit {target.kind.kind} {target.name}")
        self.setProperty("dock_key", ("edit", target.context, target.kind.key, target.namespace, target.name))
        self.opened: dict[str, Any] | None = None  # the object as the server had it when opened (or reloaded)
        self.resource_version = ""
        self.revealed = False
        self.state = "loading"
        self.conflict_current: dict[str, Any] | None = None
        self.conflict_edited: dict[str, Any] | None = None
        self._tasks = Tasks()
        #: Lines (1-based) marked as the last apply's problems.
        self.marked_lines: list[int] = []
        self._build()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        self.title = QLabel(f"<b>{self.target.kind.kind}</b> {self.target.name}"
                            + (f" in {self.target.namespace}" if self.target.namespace else ""), self)
        bar.addWidget(self.title)
        bar.addStretch(1)
        self.reveal_button = QPushButton("Reveal values", self)
        self.reveal_button.setToolTip("Show the Secret's values (as the API stores them: base64)")
        self.reveal_button.clicked.connect(self.reveal)
        self.reveal_button.hide()
        bar.addWidget(self.reveal_button)
        self.kubectl_button = QPushButton("Copy as kubectl", self)
        self.kubectl_button.clicked.connect(self._copy_kubectl)
        bar.addWidget(self.kubectl_button)
        self.reload_button = QPushButton("Reload", self)
        self.reload_button.setToolTip("Read the object again (your edits are dropped)")
        self.reload_button.clicked.connect(self.reload)
        bar.addWidget(self.reload_button)
        self.apply_button = QPushButton("Apply", self)
        self.apply_button.setToolTip("Replace the object with this YAML (PUT at the version opened) (Ctrl+S)")
        self.apply_button.clicked.connect(self.apply)
        bar.addWidget(self.apply_button)
        layout.addLayout(bar)
        self.edit = AnnotatedEdit(self)
        self.edit.setObjectName("yamlText")
        self.edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.edit.setTabChangesFocus(False)
        self.highlighter = YamlHighlighter(self.edit.document())
        save = QShortcut(QKeySequence.StandardKey.Save, self.edit)
        save.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        save.activated.connect(self.apply)
        self.status = QLabel("Loading…", self)
        self.status.setObjectName("editorStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Problems: the 422's causes by line (click one to go there).
        self.causes = QListWidget(self)
        self.causes.setObjectName("editorCauses")
        self.causes.itemActivated.connect(self._go_to_cause)
        self.causes.itemClicked.connect(self._go_to_cause)
        self.causes.hide()
        # Conflict: what changed on the server since the editor opened, and what to do.
        self.conflict = QWidget(self)
        cl = QVBoxLayout(self.conflict)
        cl.setContentsMargins(0, 0, 0, 0)
        self.conflict_label = QLabel(self.conflict)
        self.conflict_label.setWordWrap(True)
        cl.addWidget(self.conflict_label)
        self.diff_view = QPlainTextEdit(self.conflict)
        self.diff_view.setObjectName("conflictDiff")
        self.diff_view.setReadOnly(True)
        self.diff_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.diff_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        cl.addWidget(self.diff_view)
        buttons = QHBoxLayout()
        self.reapply_button = QPushButton("Reload and reapply my changes", self.conflict)
        self.reapply_button.setToolTip("Put your changes on top of the server's version, for review before Apply")
        self.reapply_button.clicked.connect(self.reload_and_reapply)
        self.discard_button = QPushButton("Discard mine and reload", self.conflict)
        self.discard_button.clicked.connect(self.reload)
        buttons.addWidget(self.reapply_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        cl.addLayout(buttons)
        self.conflict.hide()
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.edit)
        split.addWidget(self.causes)
        split.addWidget(self.conflict)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        split.setStretchFactor(2, 2)
        self.causes.setMaximumHeight(110)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

    # ------------------------------------------------------------------ state

    def _set_state(self, state: str, text: str, *, error: bool = False) -> None:
        self.state = state
        self.status.setText(text)
        self.status.setStyleSheet("color: #b3261e;" if error else "")
        self.state_changed.emit(state)

    def text(self) -> str:
        """The YAML in the editor."""
        return self.edit.toPlainText()

    async def wait(self) -> None:
        """Wait for the load or apply in flight (tests)."""
        await self._tasks.wait()

    def _show_object(self, obj: dict[str, Any], reference: dict[str, Any] | None = None) -> None:
        """Put ``obj`` in the editor (Secret values equal to ``reference``'s masked unless revealed)."""
        shown = obj
        secret = manifests.is_secret(obj)
        self.reveal_button.setVisible(secret and not self.revealed)
        if secret and not self.revealed:
            shown = self._mask_unchanged(obj, reference or obj)
        self.edit.setPlainText(manifests.to_yaml(shown))
        self.edit.document().setModified(False)
        self._mark_lines([])

    @staticmethod
    def _mask_unchanged(obj: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(obj)
        masked = manifests.mask_secret(out)
        for key in ("data", "stringData"):
            values, ref = out.get(key), reference.get(key)
            if isinstance(values, dict):
                ref = ref if isinstance(ref, dict) else {}
                masked[key] = {k: manifests.MASK if ref.get(k) == v else v for k, v in values.items()}
        return masked

    # ------------------------------------------------------------------ load

    def load(self) -> asyncio.Future[Any]:
        """Read the object and show it."""
        return self._tasks.spawn(self._load())

    def reload(self) -> None:
        """Read the object again, dropping the edits."""
        self.load()

    async def _load(self) -> None:
        t = self.target
        self._set_state("loading", "Loading…")
        self.apply_button.setEnabled(False)
        try:
            doc = await kube_edit.load(self.service, t.context, t.kind, t.namespace, t.name)
        except KubeError as err:
            self._set_state("failed", f"Could not read {t.describe()}: {err.one_line()}", error=True)
            return
        obj = _without_managed_fields(doc.obj)
        self.opened = obj
        self.resource_version = doc.resource_version
        self.conflict.hide()
        self.causes.hide()
        self._show_object(obj)
        self.apply_button.setEnabled(True)
        self._set_state("ready", f"Opened at resourceVersion {self.resource_version}. Edit, then Apply (Ctrl+S).")

    def reveal(self) -> None:
        """Show the Secret's values (edits made meanwhile are kept)."""
        if self.opened is None:
            return
        try:
            edited = self._edited()
        except manifests.ManifestError as err:
            self._yaml_problem(err)
            return
        self.revealed = True
        self.edit.setPlainText(manifests.to_yaml(edited))
        self.reveal_button.hide()

    # ------------------------------------------------------------------ apply

    def _edited(self) -> dict[str, Any]:
        """The object in the editor, masked values put back; raises ManifestError."""
        obj = manifests.parse_one(self.text())
        if self.opened is not None and manifests.is_secret(self.opened):
            obj = manifests.unmask_secret(obj, self.opened)
        return obj

    def apply(self) -> asyncio.Future[Any] | None:
        """PUT the edited object at the version opened (the result shows in the status line)."""
        if self.opened is None or self.state in ("loading", "applying"):
            return None
        return self._tasks.spawn(self._apply())

    async def _apply(self) -> None:
        t = self.target
        try:
            obj = self._edited()
        except manifests.ManifestError as err:
            self._yaml_problem(err)
            return
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict) or meta.get("name") != t.name or obj.get("kind") != t.kind.kind or (
                t.namespace and meta.get("namespace", t.namespace) != t.namespace):
            self._set_state("invalid", f"This editor replaces {t.describe()}: its kind, name and namespace cannot "
                            "change here (use Create / Apply from YAML for a new object).", error=True)
            return
        self._set_state("applying", "Applying…")
        self.apply_button.setEnabled(False)
        # The precondition: the version opened, never whatever is newest (kube/edit.py's save PUTs with it).
        outcome = await kube_edit.save(self.service, t.context, t.kind, t.namespace, t.name, manifests.to_yaml(obj),
                                  resource_version=self.resource_version)
        self.apply_button.setEnabled(True)
        if outcome.status == "conflict":
            self._conflict(obj, outcome)
            return
        if outcome.status == "invalid":
            self._invalid(outcome)
            return
        if not outcome.ok or outcome.obj is None:
            self._set_state("failed", outcome.message, error=True)
            return
        answer = _without_managed_fields(outcome.obj)
        self.opened = answer
        self.resource_version = str((answer.get("metadata") or {}).get("resourceVersion", ""))
        self.conflict.hide()
        self.causes.hide()
        self._show_object(answer)
        self._set_state("applied", f"Applied: {t.describe()} is now at resourceVersion {self.resource_version}."
                        if outcome.status == "saved" else f"Unchanged: {t.describe()} is as you left it.")
        self.applied.emit(answer)

    def _yaml_problem(self, err: manifests.ManifestError) -> None:
        self._mark_lines([err.line] if err.line else [])
        if err.line:
            self.edit.set_annotations({err.line: str(err)})
            self._go_to_line(err.line)
        self._set_state("invalid", f"Not applied: {err}", error=True)

    # ------------------------------------------------------------------ 409

    def _conflict(self, edited: dict[str, Any], outcome: kube_edit.EditOutcome) -> None:
        t = self.target
        current = outcome.obj
        if current is None:  # changed, and could not be read again
            self._set_state("conflict", outcome.message, error=True)
            return
        current = _without_managed_fields(current)
        self.conflict_current = current
        self.conflict_edited = edited
        rv_now = str((current.get("metadata") or {}).get("resourceVersion", ""))
        before, after = self.opened or {}, current
        if manifests.is_secret(after) and not self.revealed:
            before, after = manifests.mask_secret(before), manifests.mask_secret(after)
        diff = manifests.unified_diff(manifests.to_yaml(manifests.comparable(before)),
                                      manifests.to_yaml(manifests.comparable(after)),
                                      f"when you opened it (resourceVersion {self.resource_version})",
                                      f"on the server now (resourceVersion {rv_now})")
        self.diff_view.setPlainText(diff or "(only fields the server manages changed)")
        self.conflict_label.setText(
            f"<b>Not applied: {t.describe()} was changed on the server since you opened it</b> (resourceVersion "
            f"{self.resource_version} → {rv_now}). Nothing was overwritten. What changed there:")
        self.conflict.show()
        why = outcome.error.message if outcome.error is not None else outcome.message
        self._set_state("conflict", f"Conflict: {why}", error=True)

    def reload_and_reapply(self) -> None:
        """Your changes (since opening) on top of the server's current object, shown for review."""
        if self.conflict_current is None or self.conflict_edited is None or self.opened is None:
            return
        current = self.conflict_current
        mine = manifests.merge_patch(manifests.comparable(self.opened), manifests.comparable(self.conflict_edited))
        merged = manifests.apply_merge_patch(current, mine)
        merged.setdefault("metadata", {})["resourceVersion"] = (current.get("metadata") or {}).get(
            "resourceVersion", "")
        self.opened = current
        self.resource_version = str((current.get("metadata") or {}).get("resourceVersion", ""))
        self.conflict.hide()
        self.conflict_current = self.conflict_edited = None
        self._show_object(merged, reference=current)
        self.edit.document().setModified(True)
        self._set_state("ready", f"Your changes are now on top of resourceVersion {self.resource_version}. "
                                 "Review them, then Apply.")

    # ------------------------------------------------------------------ 422

    def _invalid(self, outcome: kube_edit.EditOutcome) -> None:
        text = self.text()
        self.causes.clear()
        lines: list[int] = []
        notes: dict[int, str] = {}
        for cause in outcome.causes:
            # The lines are looked up again in the editor's own text (what was sent was re-serialised).
            line = manifests.field_line(text, cause.field) if cause.field else cause.line
            if line:
                notes[line] = (notes[line] + "; " if line in notes else "") + f"{cause.field}: {cause.message}"
                lines.append(line)
            where = f"Line {line}" if line else "Object"
            item = QListWidgetItem(f"{where} · {cause.field or '(object)'}: {cause.message}")
            item.setData(Qt.ItemDataRole.UserRole, line)
            self.causes.addItem(item)
        if not self.causes.count():
            self.causes.addItem(outcome.message)
        self.causes.show()
        self._mark_lines(lines)
        self.edit.set_annotations(notes)
        if lines:
            self._go_to_line(lines[0])
        self._set_state("invalid", outcome.message, error=True)

    def _mark_lines(self, lines: list[int]) -> None:
        """Give ``lines`` (1-based) a red background (the problems of the last apply)."""
        selections = []
        doc = self.edit.document()
        for line in sorted(set(lines)):
            block = doc.findBlockByNumber(line - 1)
            if not block.isValid():
                continue
            sel = QTextEdit.ExtraSelection()
            sel.format.setBackground(ERROR_LINE)
            sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            cursor = QTextCursor(block)
            sel.cursor = cursor
            selections.append(sel)
        self.edit.setExtraSelections(selections)
        self.marked_lines = sorted(set(lines))
        self.edit.set_annotations({})

    def _go_to_line(self, line: int) -> None:
        block = self.edit.document().findBlockByNumber(line - 1)
        if block.isValid():
            self.edit.setTextCursor(QTextCursor(block))
            self.edit.centerCursor()

    def _go_to_cause(self, item: QListWidgetItem) -> None:
        line = item.data(Qt.ItemDataRole.UserRole)
        if line:
            self._go_to_line(int(line))
            self.edit.setFocus()

    # ------------------------------------------------------------------ misc

    def _copy_kubectl(self) -> None:
        from PySide6.QtGui import QGuiApplication

        QGuiApplication.clipboard().setText(kubectl_edit(self.target))
        self.status.setText("Copied: " + kubectl_edit(self.target))

    def close_streams(self) -> None:
        """The tab closes: stop a load or apply in flight (an apply already sent is not undone)."""
        self._tasks.cancel()
