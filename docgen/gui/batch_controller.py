"""The Batch tab for "rows" (mail-merge) templates: it follows the current template and data (output folder,
one waiting line per record named by the record's id, the count), runs :func:`docgen.batch.run_batch` on the
worker, shows each document's warnings, and can hold back documents with warnings: they are moved into a
``held back`` folder inside the output folder, to be read before they go out, and released from the tab."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2 import nodes

from docgen.batch import REPORT_NAME, run_batch
from docgen.gui import dialogs
from docgen.gui.batch_tab import HELD, WRITTEN, BatchPanel
from docgen.model import BatchReport, Dataset, ProgressEvent, TemplateSpec
from docgen.provenance import sidecar_path

if TYPE_CHECKING:
    from docgen.gui.main_window import MainWindow

log = logging.getLogger(__name__)
HELD_FOLDER = "held back"


def record_columns(template: TemplateSpec, columns: tuple[str, ...]) -> list[str]:
    """The data columns that name a record: those the manifest's ``output_name`` uses (``row.ticket_id``, or a
    bare name that is a column), in the order written; else a column called ``id`` or ending in ``_id``; else
    the first column. ``reply-{{ row.ticket_id }}.docx`` -> ``["ticket_id"]``."""
    found: list[str] = []
    try:
        tree = jinja2.Environment().parse(template.output_name)
    except jinja2.TemplateSyntaxError:
        tree = None
    if tree is not None:
        for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
            name = None
            if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) and node.node.name == "row":
                name = node.attr
            elif isinstance(node, nodes.Getitem) and isinstance(node.node, nodes.Name) and node.node.name == "row" \
                    and isinstance(node.arg, nodes.Const):
                name = str(node.arg.value)
            elif isinstance(node, nodes.Name) and node.name in columns:
                name = node.name
            if name in columns and name not in found:
                found.append(name)
    if found:
        return found
    ids = [c for c in columns if c.lower() == "id" or c.lower().endswith("_id")]
    return ids[:1] or list(columns[:1])


def record_label(row: dict[str, Any], keys: list[str]) -> str:
    """A record's id as shown in the Batch tab: its key columns' values joined by " · "."""
    return " · ".join("" if row.get(k) is None else str(row.get(k)) for k in keys)


class BatchController:
    """Owns the Batch tab (``widget`` = the :class:`BatchPanel`)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.panel = BatchPanel()
        self.widget = self.panel
        self.folders: dict[str, str] = {}  # template id -> output folder typed for it this session
        self._folder_template: str | None = None
        self.panel.run_requested.connect(self.start_batch)
        self.panel.cancel_requested.connect(window.cancel_run)
        self.panel.browse_requested.connect(self._browse)
        self.panel.release_requested.connect(self.release_selected)

    def default_folder(self, template: TemplateSpec) -> Path:
        """``<output folder>/<template id>``."""
        return self.window.settings.effective_output_dir() / template.id

    def follow(self) -> None:
        """Show the current template and data: availability, output folder, one waiting line per record."""
        template, dataset = self.window.template, self.window.dataset
        if self._folder_template is not None and self.panel.out_edit.text().strip():
            self.folders[self._folder_template] = self.panel.out_edit.text().strip()
        if template is None:
            return
        rows = template.mode == "rows"
        self.panel.set_available(rows, (
            "Batch writes one document per data row into the output folder, with a report."
            if rows else f"'{template.name}' makes one document from the whole table, so there is no batch: use "
                         "Generate and Export."))
        self.panel.out_edit.setText(self.folders.get(template.id) or str(self.default_folder(template)))
        self._folder_template = template.id
        if self.window.busy and self.window.runs.kind == "batch":
            return
        self.panel.prepare(dataset if rows else None, self._labels(template, dataset) if rows and dataset else [])

    def _labels(self, template: TemplateSpec, dataset: Dataset) -> list[str]:
        keys = record_columns(template, dataset.column_names)
        self.panel.model.HEADERS = ("Row", " · ".join(keys) or "Record", "Status", "Warnings", "File or problem")
        return [record_label(row, keys) for row in dataset.rows]

    def out_dir(self) -> Path:
        """The output folder in the tab (the default one when empty)."""
        text = self.panel.out_edit.text().strip()
        return Path(text).expanduser() if text else self.default_folder(self.window.template)

    def start_batch(self):
        """Run every row of a rows template into the batch output folder."""
        window = self.window
        if not window.ready("run the batch"):
            return None
        template, dataset = window.template, window.dataset
        if template.mode != "rows":
            window.error("Cannot run the batch", f"'{template.name}' makes one document from the whole table; "
                         "use Generate and Export.")
            return None
        out_dir = self.out_dir()
        self.folders[template.id] = str(out_dir)
        values, options = window.data.fields_form.values(), window.run_options()
        self.panel.started(dataset, self._labels(template, dataset))
        window.tabs.setCurrentWidget(self.widget)
        return window.runs.start("batch", lambda gen, on_event, cancel: run_batch(
            template, dataset, gen, out_dir, values=values, options=options, on_event=on_event, cancel=cancel),
            f"Writing {len(dataset.rows)} documents into {out_dir}…", self)

    # -- run signals ------------------------------------------------------------------------------------------
    def on_progress(self, _kind: str, event: ProgressEvent) -> None:
        """Per-row status from the batch's events."""
        runs = self.window.runs
        self.panel.apply(event)
        if event.kind == "run_started":
            runs.set_progress(0, event.documents, "%v / %m documents")
        elif event.kind in ("document_done", "document_failed"):
            runs.set_progress(self.panel.progress.value(), self.panel.progress.maximum(), "%v / %m documents")
        elif event.kind == "token":
            runs.set_speed(event.tokens_per_second)

    def on_succeeded(self, _kind: str, report: BatchReport) -> None:
        """The batch ended: warnings per document, documents with warnings held back when asked, the summary."""
        held = self.hold_back(report) if self.panel.hold_check.isChecked() else 0
        self.panel.finished(report, report.out_dir / REPORT_NAME, held=held)
        written = sum(1 for d in report.documents if d.ok)
        self.window.statusBar().showMessage(
            f"Batch {'cancelled' if report.cancelled else 'done'}: {written} written"
            + (f" ({held} held back with warnings)" if held else "") + f", {len(report.failed)} failed.")

    def on_failed(self, _kind: str, message: str) -> None:
        """The batch could not run (e.g. the output folder is not writable)."""
        self.panel.finished(None, None, message)
        self.window.statusBar().showMessage("Stopped by an error")
        self.window.error("Batch failed", message)

    def on_cancelled(self, _kind: str) -> None:
        """Cancelled before the batch reported (it reports itself after a cancel between documents)."""
        self.panel.finished(None, None, "Cancelled.")
        self.window.statusBar().showMessage("Cancelled")

    # -- holding back -----------------------------------------------------------------------------------------
    def hold_back(self, report: BatchReport) -> int:
        """Move every written document whose sections have warnings (and its provenance file) into
        ``<output folder>/held back``. Returns how many were moved; a file that cannot be moved stays and its
        line says so."""
        folder = report.out_dir / HELD_FOLDER
        moved = 0
        for doc in report.documents:
            warnings = [w for s in doc.sections for w in s.warnings]
            if not doc.ok or not warnings or doc.path is None:
                continue
            try:
                folder.mkdir(exist_ok=True)
                shutil.move(str(doc.path), str(folder / doc.path.name))
                if sidecar_path(doc.path).exists():
                    shutil.move(str(sidecar_path(doc.path)), str(folder / sidecar_path(doc.path).name))
            except OSError as exc:
                log.warning("Cannot hold back %s: %s", doc.path, exc)
                self.panel.model.note(doc.index, f"not held back: {exc}")
                continue
            self.panel.model.hold(doc.index, folder / doc.path.name)
            moved += 1
        return moved

    def release_selected(self) -> None:
        """Move the selected held-back documents into the output folder (they were read and are fine)."""
        released = 0
        for index in self.panel.selected_items():
            item = self.panel.model.items[index]
            if item.status != HELD or item.path is None:
                continue
            target = item.path.parent.parent / item.path.name
            try:
                shutil.move(str(item.path), str(target))
                side = sidecar_path(item.path)
                if side.exists():
                    shutil.move(str(side), str(target.parent / side.name))
            except OSError as exc:
                self.window.error("Cannot release the document", f"{item.path} could not be moved to "
                                  f"{target.parent}: {exc.strerror or exc}. Move it by hand or check the folder.")
                continue
            self.panel.model.set_status(index, WRITTEN, target)
            released += 1
        if released:
            self.window.statusBar().showMessage(f"Released {released} document(s) into the output folder")

    def _browse(self) -> None:
        path = dialogs.open_folder(self.window, "Batch output folder", Path(self.panel.out_edit.text() or "."))
        if path:
            self.panel.out_edit.setText(str(path))
            if self.window.template is not None:
                self.folders[self.window.template.id] = str(path)
