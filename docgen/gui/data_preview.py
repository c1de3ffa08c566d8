"""The data step: a table model over a typed :class:`~docgen.model.Dataset` and the panel that loads and shows it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton,
                               QStackedWidget, QTableView, QVBoxLayout, QWidget)

from docgen.model import Column, Dataset

_Index = QModelIndex | QPersistentModelIndex
_TYPE_LABEL = {"integer": "whole number", "number": "number", "date": "date", "text": "text"}


#: What an empty cell or a missing-value marker shows in the preview (grey, italic): never "None".
MISSING_HINT = "missing"
_MISSING_TIP = "No value here (an empty cell or a missing-value marker such as NA): documents print nothing"


def format_value(value: object) -> str:
    """How a typed cell is shown: a number written in a person's form as written ("1,234.50"), dates as ISO,
    floats without a trailing .0 noise, None (missing) as empty (the table shows :data:`MISSING_HINT` instead)."""
    if value is None:
        return ""
    written = getattr(value, "written", None)
    if isinstance(written, str):
        return written
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def shown_columns(dataset: Dataset | None) -> tuple[Column, ...]:
    """The columns the preview shows: the file's, then the template's ``[data] computed`` columns once the data
    was prepared for it (they live in the engine table)."""
    if dataset is None:
        return ()
    table = dataset.table
    return tuple(table.columns) if table is not None and hasattr(table, "computed") else dataset.columns


def _computed(dataset: Dataset, name: str) -> str | None:
    table = dataset.table
    return getattr(table, "computed", {}).get(name) if table is not None else None


class DatasetTableModel(QAbstractTableModel):
    """Read-only view of a Dataset: one column per data column (header: name and type), then each computed
    column (header: name, type and "computed"; tooltip: its expression), the file's own row numbers as
    vertical header."""

    def __init__(self, dataset: Dataset | None = None, parent=None) -> None:
        super().__init__(parent)
        self._dataset = dataset
        self._columns = shown_columns(dataset)

    @property
    def dataset(self) -> Dataset | None:
        """The dataset shown (None when empty)."""
        return self._dataset

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Show another dataset (or none)."""
        self.beginResetModel()
        self._dataset = dataset
        self._columns = shown_columns(dataset)
        self.endResetModel()

    def refresh_columns(self) -> None:
        """Show columns added to the dataset since (computed columns, after the data was prepared for a
        template), keeping the selection; anything else changed resets the view."""
        new = shown_columns(self._dataset)
        old = self._columns
        if new == old:
            return
        if len(new) > len(old) and new[:len(old)] == old:
            self.beginInsertColumns(QModelIndex(), len(old), len(new) - 1)
            self._columns = new
            self.endInsertColumns()
        else:
            self.set_dataset(self._dataset)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        if parent.isValid() or self._dataset is None:
            return 0
        return len(self._dataset.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        if parent.isValid() or self._dataset is None:
            return 0
        return len(self._columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        ds = self._dataset
        if ds is None or not index.isValid():
            return None
        if not (0 <= index.row() < len(ds.rows) and 0 <= index.column() < len(self._columns)):
            return None
        column = self._columns[index.column()]
        value = ds.rows[index.row()].get(column.name)
        if value is None:  # a missing value: a grey "missing" hint, never "None"
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
                return MISSING_HINT
            if role == Qt.ItemDataRole.ToolTipRole:
                return _MISSING_TIP
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor("gray"))
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setItalic(True)
                return font
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return format_value(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column.type in ("integer", "number"):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return value
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        ds = self._dataset
        if ds is None:
            return None
        if orientation == Qt.Orientation.Horizontal:
            if not 0 <= section < len(self._columns):
                return None
            column = self._columns[section]
            kind = _TYPE_LABEL.get(column.type, column.type)
            expression = _computed(ds, column.name)
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{column.name}\n{kind}" + (" · computed" if expression is not None else "")
            if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
                if expression is not None:
                    return f"{column.name}: {kind}, computed by the template as {expression}"
                return f"{column.name}: {kind}"
            if role == Qt.ItemDataRole.FontRole and expression is not None:
                font = QFont()
                font.setItalic(True)
                return font
            return None
        if not 0 <= section < len(ds.rows):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return str(ds.row_numbers[section])
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Row {ds.row_numbers[section]} of {ds.path.name}"
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


class DataPanel(QWidget):
    """Data file chooser, inline problems, a summary of typed columns, and the table preview."""

    open_requested = Signal()
    use_sample_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model = DatasetTableModel()
        self.path_edit = QLineEdit()
        self.path_edit.setReadOnly(True)
        self.path_edit.setPlaceholderText("No data file yet: open one or drop it on the window")
        self.path_edit.setAccessibleName("Data file")
        self.open_button = QPushButton("&Open data…")
        self.open_button.setAccessibleName("Open data file")
        self.open_button.setToolTip("Open a CSV, Excel (.xlsx) or JSON file (Ctrl+O)")
        self.sample_button = QPushButton("Use &sample data")
        self.sample_button.setAccessibleName("Use the template's sample data")
        self.sample_button.setEnabled(False)
        row = QHBoxLayout()
        label = QLabel("Data fi&le:")
        label.setBuddy(self.path_edit)
        row.addWidget(label)
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.open_button)
        row.addWidget(self.sample_button)

        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Data problems")
        self.problem.setStyleSheet("QLabel { color: #a00000; }")
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                             | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.problem.hide()
        self.summary = QLabel()
        self.summary.setAccessibleName("Data summary")

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Data preview")
        self.table.horizontalHeader().setAccessibleName("Data columns")
        self.table.verticalHeader().setAccessibleName("Data row numbers")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setDefaultSectionSize(110)
        # widths from the visible rows only: 100 rows x 20 columns froze the window for ~0.7 s
        self.table.horizontalHeader().setResizeContentsPrecision(0)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.problem)
        layout.addWidget(self.summary)
        self.empty = QLabel("Open a data file (Ctrl+O), drop a CSV, Excel or JSON file on the window, or use the "
                            "template's sample data.")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setFrameShape(QFrame.Shape.StyledPanel)
        self.empty.setStyleSheet("QLabel { color: gray; }")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)
        layout.addWidget(self.stack, 1)
        self.open_button.clicked.connect(self.open_requested)
        self.sample_button.clicked.connect(self.use_sample_requested)

    def show_dataset(self, dataset: Dataset | None, problem: str = "") -> None:
        """Show ``dataset`` (or clear) and, inline, ``problem`` (a DataError / MissingValues message)."""
        self.model.set_dataset(dataset)
        self.path_edit.setText(str(dataset.path) if dataset else self.path_edit.text())
        self.set_problem(problem)
        self.stack.setCurrentWidget(self.table if dataset is not None else self.empty)
        if dataset is None:
            self.summary.setText("")
            return
        kinds = ", ".join(f"{c.name} ({_TYPE_LABEL.get(c.type, c.type)})" for c in dataset.columns)
        extra = f", sheet {dataset.sheet}" if dataset.sheet else ""
        notes = f" {len(dataset.notes)} note(s) on reading (hover here)." if dataset.notes else ""
        self.summary.setText(f"{len(dataset.rows):,} rows × {len(dataset.columns)} columns{extra}. "
                             f"Each column's type is shown under its name.{notes}")
        self.summary.setToolTip("\n".join([kinds, *dataset.notes]))
        if dataset.rows:
            self.table.selectRow(0)
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        for col in range(self.model.columnCount()):
            header.resizeSection(col, min(max(header.sectionSize(col), 60), 260))

    def show_computed(self) -> None:
        """Show the computed columns the data was given for the template (after the shown ones; italic header
        marked "computed", the expression in its tooltip)."""
        before = self.model.columnCount()
        self.model.refresh_columns()
        header = self.table.horizontalHeader()
        for col in range(before, self.model.columnCount()):
            self.table.resizeColumnToContents(col)
            header.resizeSection(col, min(max(header.sectionSize(col), 60), 260))

    def set_problem(self, problem: str) -> None:
        """Show (or hide, for '') a problem message above the table."""
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))

    def set_failed_path(self, path: Path, problem: str) -> None:
        """A file that could not be read: show its path and the reason, and an empty table."""
        self.model.set_dataset(None)
        self.stack.setCurrentWidget(self.empty)
        self.path_edit.setText(str(path))
        self.summary.setText("")
        self.set_problem(problem)

    def selected_row(self) -> int:
        """0-based index of the selected data row (0 if none)."""
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else 0
