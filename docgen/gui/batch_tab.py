"""Batch from the GUI, for "rows" templates (one document per data row): output folder, Run / Cancel, "hold back
documents with warnings", a progress bar, a per-row status table (row, record id, status, warnings, file) fed
by the batch's ProgressEvents and report, Release for held-back documents, and links to the output folder and
the report. The controller (:mod:`.batch_controller`) decides what the rows are and runs the batch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QTableView, QVBoxLayout, QWidget)

from docgen.model import BatchReport, Dataset, ProgressEvent

_Index = QModelIndex | QPersistentModelIndex

PENDING, RUNNING, WRITTEN, FAILED, SKIPPED = "Waiting", "Writing…", "Written", "Failed", "Not written (cancelled)"
HELD = "Held back"
_COLORS = {WRITTEN: "#1b6e20", FAILED: "#a00000", SKIPPED: "#777777", HELD: "#8a5a00"}


@dataclass
class RowStatus:
    """One planned document of the batch."""

    row: int
    label: str
    status: str = PENDING
    detail: str = ""
    warnings: tuple[str, ...] = ()
    path: Path | None = None


class BatchStatusModel(QAbstractTableModel):
    """Columns: Row (the file's row number), the record id (header: its column names), Status, Warnings,
    File or problem."""

    HEADERS = ("Row", "Record", "Status", "Warnings", "File or problem")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.items: list[RowStatus] = []

    def prepare(self, dataset: Dataset | None, labels: list[str]) -> None:
        """One waiting line per row of ``dataset`` (none without one), named by ``labels[i]``."""
        self.beginResetModel()
        self.items = [] if dataset is None else [
            RowStatus(number, labels[i] if i < len(labels) else "") for i, number in enumerate(dataset.row_numbers)]
        self.endResetModel()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.HEADERS) - 1)

    def _changed(self, i: int) -> None:
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.HEADERS) - 1))

    def set_warnings(self, report: BatchReport) -> None:
        """Each document's warnings (all its sections'), from the batch report."""
        for doc in report.documents:
            if 0 <= doc.index < len(self.items):
                self.items[doc.index].warnings = tuple(w for s in doc.sections for w in s.warnings)
                if doc.path is not None and doc.ok and self.items[doc.index].path is None:
                    self.items[doc.index].path = doc.path
                self._changed(doc.index)

    def hold(self, i: int, path: Path) -> None:
        """Line ``i``'s document was held back at ``path``."""
        self.set_status(i, HELD, path)

    def set_status(self, i: int, status: str, path: Path | None = None) -> None:
        """Set line ``i``'s status (and its file)."""
        if 0 <= i < len(self.items):
            item = self.items[i]
            item.status = status
            if path is not None:
                item.path, item.detail = path, (f"{path.parent.name}/{path.name}" if status == HELD else path.name)
            self._changed(i)

    def note(self, i: int, text: str) -> None:
        """Add ``text`` to line ``i``'s file/problem column."""
        if 0 <= i < len(self.items):
            self.items[i].detail = f"{self.items[i].detail} ({text})"
            self._changed(i)

    def apply(self, event: ProgressEvent) -> None:
        """Update a line from a batch ProgressEvent."""
        i = event.document
        if event.kind == "run_started" and len(self.items) != event.documents:
            self.beginResetModel()
            self.items = [RowStatus(n + 1, "") for n in range(event.documents)]
            self.endResetModel()
            return
        if not 0 <= i < len(self.items):
            return
        item = self.items[i]
        if event.kind == "document_started":
            item.status, item.detail = RUNNING, ""
        elif event.kind == "document_done":
            item.status, item.detail, item.path = WRITTEN, event.path.name if event.path else "", event.path
        elif event.kind == "document_failed":
            item.status, item.detail = FAILED, event.text
        else:
            return
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.HEADERS) - 1))

    def finish(self, cancelled: bool) -> None:
        """Mark lines that never ran (after a cancel) or stopped mid-way."""
        for i, item in enumerate(self.items):
            if item.status in (PENDING, RUNNING):
                item.status = SKIPPED if cancelled else FAILED
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.HEADERS) - 1))

    def counts(self) -> dict[str, int]:
        """Status -> number of lines."""
        out: dict[str, int] = {}
        for item in self.items:
            out[item.status] = out.get(item.status, 0) + 1
        return out

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        item = self.items[index.row()]
        warn = f"{len(item.warnings)}: {item.warnings[0]}" if item.warnings else ""
        values = (str(item.row), item.label, item.status, warn, item.detail)
        if not 0 <= index.column() < len(values):
            return None
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 3 and item.warnings:
            return "\n".join(item.warnings)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return values[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 3 and item.warnings:
            return QBrush(QColor(_COLORS[HELD]))
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 2 and item.status in _COLORS:
            return QBrush(QColor(_COLORS[item.status]))
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section] if 0 <= section < len(self.HEADERS) else None
        return str(section + 1) if 0 <= section < len(self.items) else None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


class BatchPanel(QWidget):
    """Output folder, Run batch / Cancel, progress, per-row status, and links to the results."""

    run_requested = Signal()
    cancel_requested = Signal()
    browse_requested = Signal()
    release_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model = BatchStatusModel()
        self.intro = QLabel("Batch makes one document per data row for mail-merge templates.")
        self.intro.setWordWrap(True)
        self.out_edit = QLineEdit()
        self.out_edit.setAccessibleName("Batch output folder")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setAccessibleName("Choose the batch output folder")
        self.run_button = QPushButton("Run ba&tch")
        self.run_button.setAccessibleName("Run batch")
        self.run_button.setToolTip("Write one document per row into the output folder")
        self.cancel_button = QPushButton("Cancel batch")
        self.cancel_button.setAccessibleName("Cancel batch")
        self.cancel_button.setEnabled(False)
        self.hold_check = QCheckBox("&Hold back documents with warnings")
        self.hold_check.setChecked(True)
        self.hold_check.setAccessibleName("Hold back documents with warnings")
        self.hold_check.setToolTip("Documents whose text has warnings (figures not in the data, placeholders such "
                                   "as [address], text cut at max_tokens) go into a 'held back' folder inside the "
                                   "output folder; read them, then Release them")
        self.release_button = QPushButton("Re&lease selected")
        self.release_button.setAccessibleName("Release the selected held-back documents")
        self.release_button.setToolTip("Move the selected held-back documents into the output folder")
        self.release_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Batch progress")
        self.progress.setFormat("%v of %m documents")
        self.progress.setRange(0, 0)
        self.progress.setValue(0)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Batch status per row")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        self.table.horizontalHeader().setAccessibleName("Batch columns")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(3, self.fontMetrics().horizontalAdvance("M") * 18)
        header.setStretchLastSection(True)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setAccessibleName("Batch result")
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.result.linkActivated.connect(lambda url: QDesktopServices.openUrl(QUrl(url)))

        out_row = QHBoxLayout()
        label = QLabel("Output f&older:")
        label.setBuddy(self.out_edit)
        out_row.addWidget(label)
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(self.browse_button)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.hold_check)
        run_row.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.intro)
        layout.addLayout(out_row)
        layout.addLayout(run_row)
        layout.addWidget(self.table, 1)
        result_row = QHBoxLayout()
        result_row.addWidget(self.result, 1)
        result_row.addWidget(self.release_button)
        layout.addLayout(result_row)
        self.run_button.clicked.connect(self.run_requested)
        self.release_button.clicked.connect(self.release_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.browse_button.clicked.connect(self.browse_requested)

    def set_available(self, available: bool, reason: str) -> None:
        """Enable the batch for rows templates; otherwise say why it is off."""
        self.intro.setText(reason)
        for widget in (self.out_edit, self.browse_button, self.run_button):
            widget.setEnabled(available)

    def prepare(self, dataset: Dataset | None, labels: list[str]) -> None:
        """Before a run: one waiting line per record of ``dataset`` and the count "0 of N documents"."""
        self.model.prepare(dataset, labels)
        self.progress.setRange(0, len(dataset.rows) if dataset is not None else 0)
        self.progress.setValue(0)
        self.progress.setFormat("%v of %m documents" if dataset is not None else "no data yet")
        self.result.setText("")
        self.release_button.setEnabled(False)

    def started(self, dataset: Dataset, labels: list[str]) -> None:
        """A batch starts: reset the table and the progress."""
        self.prepare(dataset, labels)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)

    def selected_items(self) -> list[int]:
        """Indexes of the selected lines."""
        return sorted({i.row() for i in self.table.selectionModel().selectedRows()})

    def apply(self, event: ProgressEvent) -> None:
        """A batch ProgressEvent."""
        self.model.apply(event)
        if event.kind in ("document_done", "document_failed"):
            done = sum(1 for item in self.model.items if item.status in (WRITTEN, FAILED))
            self.progress.setValue(done)

    def finished(self, report: BatchReport | None, report_path: Path | None, message: str = "", *,
                 held: int = 0) -> None:
        """The batch ended (report None when it could not start); ``held`` documents were held back."""
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if report is None:
            self.model.finish(cancelled=True)
            self.result.setText(message)
            return
        self.model.finish(report.cancelled)
        self.model.set_warnings(report)
        written = sum(1 for d in report.documents if d.ok)
        failed = len(report.failed)
        state = "Cancelled" if report.cancelled else "Done"
        folder = QUrl.fromLocalFile(str(report.out_dir)).toString()
        links = f"<a href='{folder}'>Open the output folder</a>"
        if report_path is not None:
            links += f" · <a href='{QUrl.fromLocalFile(str(report_path)).toString()}'>Open the report</a>"
        held_text = f" ({held} held back with warnings: select them and Release once read)" if held else ""
        self.release_button.setEnabled(bool(held))
        self.result.setText(f"{state}: {written} written{held_text}, {failed} failed in {report.seconds:.1f} s. "
                            f"{links}")
