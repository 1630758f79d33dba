"""Create / Apply from YAML: a file or pasted text (several documents), server-side apply with a dry run first.

1. "Dry run" sends every document with ``dryRun=All`` and shows, per object, whether it would be created,
   changed (with a diff against what the server has now) or left unchanged, and any conflict with another field
   manager or field problem (422, with its line).
2. "Apply" is enabled only once the exact text shown has passed a dry run; any edit asks for a new dry run.
3. "Force" (take over fields other managers own) is off unless the user ticks it.

Writes go through ``kube/edit.py``'s ``apply_all`` (``service.writes.apply``, ``fieldManager=kube9-desktop``).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.commands.runner import known_kinds
from kube9_desktop.kube import edit as kube_edit
from kube9_desktop.kube import manifests
from kube9_desktop.ui.details import YamlHighlighter
from kube9_desktop.ui.tasks import Tasks

if TYPE_CHECKING:
    from kube9_desktop.kube.service import KubeService

log = logging.getLogger(__name__)

#: Largest file opened (a manifest bigger than this is a mistake, not a manifest).
MAX_FILE_BYTES = 5 * 1024 * 1024


class ApplyYaml(QWidget):
    """The Create / Apply pane (a bottom-dock tab).

    Args:
        service: The data layer.
        context: The context applied to.
        namespace: The namespace for documents that name none (default: ``default``).
    """

    def __init__(self, service: KubeService, context: str, namespace: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("applyYaml")
        self.setWindowTitle(f"Apply YAML to {context}")
        self.setProperty("dock_key", ("apply", context))
        self.service = service
        self.context = context
        self.namespace = namespace or "default"
        self.checked_text: str | None = None  # the text that passed the last dry run
        self._checked_force = False
        self.outcomes: list[kube_edit.ApplyStep] = []
        self.state = "editing"
        self._tasks = Tasks()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(f"Server-side apply to <b>{context}</b> (documents without a namespace go to "
                             f"<b>{self.namespace}</b>)", self))
        bar.addStretch(1)
        self.open_button = QPushButton("Open file…", self)
        self.open_button.clicked.connect(self._choose_file)
        bar.addWidget(self.open_button)
        self.force_box = QCheckBox("Force (take over fields other managers own)", self)
        self.force_box.toggled.connect(self._invalidate)
        bar.addWidget(self.force_box)
        self.dry_button = QPushButton("Dry run", self)
        self.dry_button.clicked.connect(self.dry_run)
        bar.addWidget(self.dry_button)
        self.apply_button = QPushButton("Apply", self)
        self.apply_button.setEnabled(False)
        self.apply_button.setToolTip("Run a dry run of this text first")
        self.apply_button.clicked.connect(self.apply)
        bar.addWidget(self.apply_button)
        layout.addLayout(bar)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.edit = QPlainTextEdit(self)
        self.edit.setObjectName("applyText")
        self.edit.setFont(mono)
        self.edit.setPlaceholderText("Paste YAML here (several documents separated by ---), or open a file")
        self.highlighter = YamlHighlighter(self.edit.document())
        self.edit.textChanged.connect(self._invalidate)
        self.results = QPlainTextEdit(self)
        self.results.setObjectName("applyResults")
        self.results.setReadOnly(True)
        self.results.setFont(mono)
        split = QSplitter(self)
        split.addWidget(self.edit)
        split.addWidget(self.results)
        layout.addWidget(split, 1)
        self.status = QLabel("Paste or open YAML, then Dry run.", self)
        self.status.setObjectName("applyStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

    # ------------------------------------------------------------------ input

    def _choose_file(self) -> None:
        dialog = QFileDialog(self, "Open YAML", "", "YAML (*.yaml *.yml *.json);;All files (*)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.open_file)
        dialog.open()

    def open_file(self, path: str) -> None:
        """Load ``path`` into the editor (a file that cannot be read says why; the text shown is kept)."""
        p = Path(path)
        try:
            if p.stat().st_size > MAX_FILE_BYTES:
                raise OSError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self._status(f"Cannot read {path}: {exc}", error=True)
            return
        self.edit.setPlainText(text)
        self.setWindowTitle(f"Apply {p.name}")
        self._status(f"Opened {path}. Dry run to see what it would do.")

    def _invalidate(self) -> None:
        if self.checked_text is not None and (self.edit.toPlainText() != self.checked_text
                                              or self.force_box.isChecked() != self._checked_force):
            self.checked_text = None
            self.apply_button.setEnabled(False)
            self._status("Changed since the dry run: run it again before applying.")

    def _status(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b3261e;" if error else "")

    # ------------------------------------------------------------------ runs

    async def wait(self) -> None:
        """Wait for the run in flight (tests)."""
        await self._tasks.wait()

    def dry_run(self) -> asyncio.Future[Any]:
        """Send every document with ``dryRun=All`` and show what would happen."""
        return self._tasks.spawn(self._run(dry=True))

    def apply(self) -> asyncio.Future[Any] | None:
        """Apply the text that passed the dry run."""
        if self.checked_text is None or self.edit.toPlainText() != self.checked_text:
            self._status("Run a dry run of this text first.", error=True)
            return None
        return self._tasks.spawn(self._run(dry=False))

    def kubectl(self) -> str:
        """The kubectl equivalent."""
        force = " --force-conflicts" if self.force_box.isChecked() else ""
        return f"kubectl apply --server-side --field-manager=kube9-desktop{force} -f FILE --context {self.context}"

    async def _run(self, *, dry: bool) -> None:
        text = self.edit.toPlainText()
        force = self.force_box.isChecked()
        self.dry_button.setEnabled(False)
        self.apply_button.setEnabled(False)
        self.state = "running"
        try:
            docs = manifests.parse_documents(text)
        except manifests.ManifestError as err:
            self._status(f"Not sent: {err}", error=True)
            self.results.setPlainText(str(err))
            self.state = "invalid"
            self.dry_button.setEnabled(True)
            return
        if not docs:
            self._status("Nothing to apply: the text holds no object.", error=True)
            self.state = "invalid"
            self.dry_button.setEnabled(True)
            return
        kinds = known_kinds(self.service, self.context)
        outcomes = await kube_edit.apply_all(self.service, self.context, docs, kinds, namespace=self.namespace,
                                             dry_run=dry, force=force, text=text)
        self.outcomes = outcomes
        self.results.setPlainText(self._report(outcomes, dry))
        self.dry_button.setEnabled(True)
        failed = [o for o in outcomes if not o.ok]
        mode = "Dry run" if dry else "Apply"
        if failed:
            self.state = "failed"
            self._status(f"{mode}: {len(failed)} of {len(outcomes)} objects refused (see the right). "
                         + ("Nothing was changed." if dry else ""), error=True)
            return
        if dry:
            self.checked_text = text
            self._checked_force = force
            self.apply_button.setEnabled(True)
            self.apply_button.setToolTip("Apply exactly what the dry run checked")
            self.state = "checked"
            self._status(f"Dry run passed for {len(outcomes)} objects (nothing changed yet). Apply to make it so.")
        else:
            self.state = "applied"
            self.checked_text = None
            self._status(f"Applied {len(outcomes)} objects.")

    @staticmethod
    def _report(outcomes: list[kube_edit.ApplyStep], dry: bool) -> str:
        head = "Dry run (nothing changed):" if dry else "Applied:"
        out = [head]
        for o in outcomes:
            out.append(f"{'✓' if o.ok else '✗'} {o.line()}")
            if o.status == 409 and o.causes:
                out.append("    (tick Force to take these fields over)")
            if o.diff:
                out.extend("    " + line for line in o.diff.rstrip("\n").splitlines())
        return "\n".join(out)

    def close_streams(self) -> None:
        """The tab closes: stop a run in flight (what the server already did stays done)."""
        self._tasks.cancel()
