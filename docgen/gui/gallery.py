"""The template gallery: a list model over the catalog and the panel showing it with the chosen template's details."""

from __future__ import annotations

import html

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import QLabel, QListView, QPushButton, QVBoxLayout, QWidget

from docgen.model import TemplateSpec
from docgen.templates.catalog import CatalogEntry

SpecRole = Qt.ItemDataRole.UserRole + 1
ErrorRole = Qt.ItemDataRole.UserRole + 2

_Index = QModelIndex | QPersistentModelIndex


class TemplateListModel(QAbstractListModel):
    """One row per catalog entry. Broken packages are listed (greyed, not selectable) with their error."""

    def __init__(self, entries: list[CatalogEntry] | None = None, parent=None) -> None:
        super().__init__(parent)
        self._entries: list[CatalogEntry] = list(entries or [])

    def set_entries(self, entries: list[CatalogEntry]) -> None:
        """Replace the list."""
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()

    def add_spec(self, spec: TemplateSpec) -> QModelIndex:
        """Add (or replace, by id) a template opened from disk; returns its index."""
        for row, entry in enumerate(self._entries):
            if entry.spec is not None and entry.spec.id == spec.id:
                self._entries[row] = CatalogEntry(spec.root, spec.source, spec)
                index = self.index(row, 0)
                self.dataChanged.emit(index, index)
                return index
        row = len(self._entries)
        self.beginInsertRows(QModelIndex(), row, row)
        self._entries.append(CatalogEntry(spec.root, spec.source, spec))
        self.endInsertRows()
        return self.index(row, 0)

    def spec(self, row: int) -> TemplateSpec | None:
        """The template of ``row`` (None for a broken package)."""
        return self._entries[row].spec if 0 <= row < len(self._entries) else None

    def row_of(self, template_id: str) -> int:
        """Row of the template with this id, or -1."""
        return next((i for i, e in enumerate(self._entries) if e.spec and e.spec.id == template_id), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        spec = entry.spec
        if role == Qt.ItemDataRole.DisplayRole:
            if spec is None:
                return f"{entry.path.name} (cannot be used)"
            return spec.name
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleDescriptionRole):
            if spec is None:
                return entry.error
            return f"{spec.description}\n[{spec.id}, {entry.source}]"
        if role == SpecRole:
            return spec
        if role == ErrorRole:
            return entry.error
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self._entries[index.row()].spec is None:
            return Qt.ItemFlag.ItemNeverHasChildren
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


def describe(spec: TemplateSpec) -> str:
    """Rich-text summary of a template: description, data mode, columns, fields, sections."""
    esc = html.escape
    mode = "one document per row (mail merge)" if spec.mode == "rows" else "one document for the whole table"
    fields = ", ".join(esc(f.label) + (" *" if f.required else "") for f in spec.fields) or "none"
    sections = ", ".join(esc(s.title) for s in spec.sections) or "none"
    columns = ", ".join(esc(c) for c in spec.required_columns) or "any"
    return (f"<b>{esc(spec.name)}</b> <span style='color:gray'>v{esc(spec.version)} · {esc(spec.source)}</span>"
            f"<p>{esc(spec.description)}</p>"
            f"<p><b>Makes:</b> {mode}<br><b>Needs columns:</b> {columns}<br><b>Fields:</b> {fields}<br>"
            f"<b>Model writes:</b> {sections}</p>")


class GalleryPanel(QWidget):
    """The template list, an "Open template package…" button and the chosen template's details."""

    template_chosen = Signal(object)  # TemplateSpec
    open_package_requested = Signal()

    def __init__(self, model: TemplateListModel, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self.view = QListView()
        self.view.setModel(model)
        self.view.setAccessibleName("Templates")
        self.view.setAccessibleDescription("Choose the kind of document to make")
        self.view.setUniformItemSizes(True)
        self.view.setSpacing(2)
        self.open_button = QPushButton("Open template &package…")
        self.open_button.setAccessibleName("Open template package")
        self.open_button.setToolTip("Use a template folder (with docgen.toml) or a .docgen file from disk")
        self.details = QLabel("Choose a template.")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setAccessibleName("Template details")
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard
                                             | Qt.TextInteractionFlag.TextSelectableByMouse)
        heading = QLabel("<b>1. Template</b>")
        heading.setBuddy(self.view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading)
        layout.addWidget(self.view, 2)
        layout.addWidget(self.open_button)
        layout.addWidget(self.details, 3)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.open_button.clicked.connect(self.open_package_requested)

    def select(self, template_id: str) -> bool:
        """Select the template with this id; False if it is not listed."""
        row = self.model.row_of(template_id)
        if row < 0:
            return False
        self.view.setCurrentIndex(self.model.index(row, 0))
        return True

    def select_index(self, index: QModelIndex) -> None:
        """Select the template at ``index``."""
        self.view.setCurrentIndex(index)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        spec = self.model.spec(current.row()) if current.isValid() else None
        if spec is None:
            error = self.model.data(current, ErrorRole) if current.isValid() else None
            self.details.setText(html.escape(error) if error else "Choose a template.")
            return
        self.details.setText(describe(spec))
        self.template_chosen.emit(spec)
