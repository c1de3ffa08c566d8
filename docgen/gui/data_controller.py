"""The Data and fields tab: opening a data file on a worker thread (the window stays responsive; a busy bar
shows while it reads), the worksheet picker for workbooks, the required-columns check, the selected record
(rows templates) and the fields form."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Qt, Signal
from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from docgen.errors import DocgenError, MissingValues
from docgen.gui import dialogs, match_fields
from docgen.gui.data_preview import DataPanel
from docgen.gui.fields_form import FieldsForm
from docgen.model import Dataset, TemplateSpec
from docgen.sources import load_dataset, prepare_dataset

if TYPE_CHECKING:
    from docgen.gui.main_window import MainWindow

log = logging.getLogger(__name__)
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def sheet_names(path: Path) -> list[str]:
    """The worksheet names of an .xlsx/.xlsm workbook, in workbook order ([] when it cannot be opened: the
    reader then says why)."""
    import warnings

    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")
            workbook = openpyxl.load_workbook(path, read_only=True)
        try:
            return [ws.title for ws in workbook.worksheets]
        finally:
            workbook.close()
    except Exception:  # noqa: BLE001 - load_dataset reports the real problem with its own words
        return []


class LoadThread(QThread):
    """Reads one data file with :func:`docgen.sources.load_dataset` (and lists a workbook's sheets) off the GUI
    thread, with ``missing`` as the missing-value markers (the template's ``[data] missing_values``; None: the
    defaults). Emits ``loaded(Dataset, sheet_names)`` or ``failed(message, sheet_names)``."""

    loaded = Signal(object, list)
    failed = Signal(str, list)

    def __init__(self, path: Path, sheet: str | None, parent=None, *, missing: tuple[str, ...] | None = None) -> None:
        super().__init__(parent)
        self.path, self.sheet, self.missing = path, sheet, missing

    def run(self) -> None:  # noqa: D102 - worker thread
        sheets: list[str] = []
        try:
            if self.path.suffix.lower() in WORKBOOK_SUFFIXES and self.path.is_file():
                sheets = sheet_names(self.path)
            dataset = load_dataset(self.path, sheet=self.sheet, missing=self.missing)
        except DocgenError as exc:
            self.failed.emit(str(exc), sheets)
        except Exception as exc:  # noqa: BLE001 - a reader bug must show a message, not kill the app
            log.exception("Reading %s failed", self.path)
            self.failed.emit(f"{self.path}: unexpected error while reading ({type(exc).__name__}: {exc})", sheets)
        else:
            self.loaded.emit(dataset, sheets)


class DataController(QObject):
    """Owns the Data tab. ``dataset_changed()`` after a file was read (or failed), ``row_changed()`` when another
    record is selected, ``fields_changed()`` when a field is typed in."""

    dataset_changed = Signal()
    checked = Signal()
    row_changed = Signal()
    fields_changed = Signal()
    loading_changed = Signal(bool)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dataset: Dataset | None = None
        self.problem = ""
        self.unmatched: tuple[str, ...] = ()  # the template's columns the data lacks (Match Fields can map them)
        self.loader: LoadThread | None = None
        self._then: list[Callable[[], None]] = []
        self._pending: tuple[Path, str | None] | None = None
        self._read_with: tuple[str, ...] | None = None  # the missing-value markers the dataset was read with
        self._reading_with: tuple[str, ...] | None = None
        self._prepared: str | None = None  # the template the dataset was prepared for (computed columns added)
        self.panel = DataPanel()
        self.fields_form = FieldsForm()
        self.sheet_label = QLabel("Wor&ksheet:")
        self.sheet_combo = QComboBox()
        self.sheet_combo.setAccessibleName("Worksheet")
        self.sheet_combo.setToolTip("The worksheet of the workbook that holds the table")
        self.sheet_label.setBuddy(self.sheet_combo)
        sheet_row = QHBoxLayout()
        sheet_row.addWidget(self.sheet_label)
        sheet_row.addWidget(self.sheet_combo, 1)
        self.panel.layout().insertLayout(1, sheet_row)
        self._show_sheets([], None)

        fields_box = QGroupBox("Fields")
        fields_box.setAccessibleName("Fields")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.fields_form)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        box = QVBoxLayout(fields_box)
        box.addWidget(scroll)
        self.row_note = QLabel()
        self.row_note.setWordWrap(True)
        self.row_note.hide()
        box.addWidget(self.row_note)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.panel)
        self.splitter.addWidget(fields_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.widget = QWidget()
        layout = QVBoxLayout(self.widget)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)

        self.panel.open_requested.connect(self.open_dialog)
        self.panel.use_sample_requested.connect(self.use_sample)
        self.panel.table.selectionModel().selectionChanged.connect(lambda *_: self.row_changed.emit())
        self.fields_form.changed.connect(self.fields_changed)
        self.sheet_combo.activated.connect(self._sheet_chosen)

    # -- template ---------------------------------------------------------------------------------------------
    def show_template(self, spec: TemplateSpec) -> None:
        """Rebuild the form for ``spec`` and check the loaded data against its required columns."""
        self.fields_form.set_template(spec)
        self.row_note.setText("This template makes one document per data row. Generate writes the document for "
                              "the row selected above (to review it); the Batch tab writes all rows.")
        self.row_note.setVisible(spec.mode == "rows")
        self.check_columns()

    def check_columns(self) -> None:
        """Make the loaded data ready for the template as the command line does
        (:func:`docgen.sources.prepare_dataset`: the columns matched in Match Fields, required columns, ``[data]
        computed`` columns) and show (or clear) its problem; ``checked()`` follows. Data read with other missing-value markers, or already prepared for another template (its
        computed columns), is read again first."""
        self.problem, self.unmatched = "", ()
        template = self.window.template
        if template is not None and self.dataset is not None:
            if self._read_with != self._markers() or self._prepared not in (None, template.id):
                self.load(self.dataset.path, self.dataset.sheet)
                return
            try:
                prepare_dataset(self.dataset, template_id=template.id, required=template.required_columns,
                                computed=template.computed, mapping=match_fields.mapping_for(template, self.dataset))
                self._prepared = template.id
                self.panel.show_computed()
            except MissingValues as exc:
                self.problem, self.unmatched = str(exc), tuple(exc.names)  # the Match Fields button shows
            except DocgenError as exc:
                self.problem = str(exc)
        if self.dataset is not None:
            self.panel.set_problem(self.problem)
        self.checked.emit()

    def _markers(self) -> tuple[str, ...] | None:
        """The missing-value markers the current template asks for (None: the defaults)."""
        template = self.window.template
        markers = getattr(template, "missing_values", None) if template is not None else None
        return None if markers is None else tuple(markers)

    # -- loading ----------------------------------------------------------------------------------------------
    @property
    def loading(self) -> bool:
        """True while a file is being read."""
        return self.loader is not None

    def open_dialog(self) -> None:
        """Ask for a data file and load it."""
        start = self.dataset.path.parent if self.dataset else Path.home()
        path = dialogs.open_file(self.window, "Open data", start, dialogs.DATA_FILTER)
        if path:
            self.load(path)

    def use_sample(self) -> None:
        """Load the template's sample data."""
        template = self.window.template
        if template and template.sample_data:
            self.load(template.sample_data)

    def load(self, path: Path, sheet: str | None = None, then: Callable[[], None] | None = None) -> None:
        """Read ``path`` (worksheet ``sheet``) on a worker thread; problems are shown inline in the tab. ``then``
        runs on the GUI thread after the file was read or failed."""
        if then is not None:
            self._then.append(then)
        if self.loader is not None:  # one read at a time: the newest request wins once the current one ends
            self._pending = (Path(path), sheet)
            return
        path = Path(path)
        self._reading_with = self._markers()
        self.loader = LoadThread(path, sheet, self, missing=self._reading_with)
        self.loader.loaded.connect(lambda ds, sheets: self._loaded(ds, sheets))
        self.loader.failed.connect(lambda message, sheets: self._failed(path, message, sheets))
        self.loader.finished.connect(self._load_finished)
        self.panel.set_problem("")
        self.panel.summary.setText(f"Reading {path.name}…")
        self.window.statusBar().showMessage(f"Reading {path.name}…")
        self.loading_changed.emit(True)
        self.loader.start()

    def _loaded(self, dataset: Dataset, sheets: list[str]) -> None:
        self.dataset = dataset
        self._read_with, self._prepared = self._reading_with, None
        self.panel.show_dataset(dataset)
        self._show_sheets(sheets, dataset.sheet)
        self.check_columns()
        self.window.statusBar().showMessage(f"Read {dataset.path.name}: {len(dataset.rows):,} rows")

    def _failed(self, path: Path, message: str, sheets: list[str]) -> None:
        self.dataset = None
        self.problem = message
        self.panel.set_failed_path(path, message)
        self._show_sheets(sheets, None)
        self.window.statusBar().showMessage(f"Cannot read {path.name}")

    def _load_finished(self) -> None:
        loader, self.loader = self.loader, None
        if loader is not None:
            loader.deleteLater()
        pending, self._pending = self._pending, None
        if pending is not None:
            self.load(*pending)
            return
        self.loading_changed.emit(False)
        self.dataset_changed.emit()
        then, self._then = self._then, []
        for callback in then:
            callback()

    def _show_sheets(self, sheets: list[str], current: str | None) -> None:
        self.sheet_combo.clear()
        self.sheet_combo.addItems(sheets)
        if current:
            self.sheet_combo.setCurrentText(current)
        for widget in (self.sheet_label, self.sheet_combo):
            widget.setVisible(len(sheets) > 1)

    def _sheet_chosen(self, index: int) -> None:
        sheet = self.sheet_combo.itemText(index)
        path = self.dataset.path if self.dataset else Path(self.panel.path_edit.text())
        if sheet and (self.dataset is None or sheet != self.dataset.sheet):
            self.load(path, sheet)

    # -- record -----------------------------------------------------------------------------------------------
    def current_row(self) -> int | None:
        """The 0-based record the single document is for (rows templates), else None."""
        template = self.window.template
        if template is None or template.mode != "rows" or self.dataset is None or not self.dataset.rows:
            return None
        return min(self.panel.selected_row(), len(self.dataset.rows) - 1)

    def select_row(self, row: int | None) -> None:
        """Select record ``row`` (0-based) in the table, when it exists."""
        if isinstance(row, int) and self.dataset is not None and 0 <= row < len(self.dataset.rows):
            self.panel.table.selectRow(row)
