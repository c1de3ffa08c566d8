"""Match Fields: pick, for each column a template reads, the column of the data file that holds it (like Word's
mail-merge Match Fields), remembered per data header.

When a data file's column names differ from the template's (``verified_reviews`` where sentiment-report reads
``comment``), the Data tab shows the problem and a **Match Fields…** button under it (also File > Match Fields…,
Ctrl+Shift+M). The dialog lists each of the template's required columns with a drop-down of the file's columns, pre-filled by
:func:`suggest` (what was chosen before for this header, else the same name, else the closest name by the rule
the command line's ``--map`` suggestions use, :func:`docgen.sources.required.closest_column`).

The choice is remembered in ``match_fields.json`` in the user config folder (beside ``settings.toml``;
DOCGEN_HOME moves it), keyed by a hash of the file's header row (:func:`header_key`), so the next file with the
same columns is matched without asking. The Data tab passes the remembered mapping to
:func:`docgen.sources.prepare_dataset` (``mapping=``, the same path as ``--map``), so previews, documents and
batches read the mapped column under the template's name.

The store functions are Qt-free; :class:`MatchFieldsDialog` and :func:`install` are the widgets.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QPushButton,
                               QSizePolicy, QVBoxLayout, QWidget)

from docgen import paths
from docgen.errors import DocgenError
from docgen.files import atomic_write_text
from docgen.model import Dataset, TemplateSpec
from docgen.sources.required import loose_name, closest_column

if TYPE_CHECKING:
    from docgen.gui.main_window import MainWindow

__all__ = ["MatchFieldsDialog", "header_key", "install", "mapping_for", "remember", "remembered", "suggest"]

log = logging.getLogger(__name__)
#: Headers remembered at most (the oldest are forgotten first).
MAX_HEADERS = 200
#: The drop-down entry for "no column of the file holds this".
NOT_MATCHED = "(not matched)"


def store_file() -> Path:
    """``<user config dir>/match_fields.json``: ``{header_key: {"columns": [...], "map": {template: data}}}``."""
    return paths.user_config_dir() / "match_fields.json"


def header_key(columns: Sequence[str]) -> str:
    """The key a header row is remembered under: sha256 (hex, first 24 digits) of the column names in file
    order, exactly as read (so a renamed or reordered column is another header)."""
    return hashlib.sha256(json.dumps(list(columns), ensure_ascii=False).encode("utf-8")).hexdigest()[:24]


def _load() -> dict:
    try:
        data = json.loads(store_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remembered(columns: Sequence[str]) -> dict[str, str]:
    """The mapping chosen before for this header row: template column -> data column ({} when none). Entries
    naming a column the header does not have are left out."""
    entry = _load().get(header_key(columns))
    mapping = entry.get("map") if isinstance(entry, dict) else None
    if not isinstance(mapping, dict):
        return {}
    present = set(columns)
    return {str(k): v for k, v in mapping.items() if isinstance(v, str) and v in present}


def remember(columns: Sequence[str], mapping: Mapping[str, str | None]) -> None:
    """Store ``mapping`` (template column -> data column; None forgets that template column) for this header,
    merged with what was stored before (another template's columns stay). A read-only profile only logs."""
    data = _load()
    key = header_key(columns)
    entry = data.pop(key, None)
    merged = dict(entry.get("map", {})) if isinstance(entry, dict) and isinstance(entry.get("map"), dict) else {}
    for want, have in mapping.items():
        if have:
            merged[want] = have
        else:
            merged.pop(want, None)
    data[key] = {"columns": list(columns), "map": merged}  # newest last; the oldest go first
    while len(data) > MAX_HEADERS:
        data.pop(next(iter(data)))
    try:
        atomic_write_text(store_file(), json.dumps(data, indent=1, ensure_ascii=False), label="settings folder")
    except (OSError, DocgenError) as exc:
        log.warning("Cannot remember the matched fields: %s", exc)


def suggest(wanted: Sequence[str], columns: Sequence[str],
            before: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """For each template column in ``wanted``, the data column to pre-fill (None: no good candidate): the one
    chosen before for this header (``before``), else the same name, else the only column differing in case or
    spaces, else the closest name (:func:`docgen.sources.required.closest_column`: difflib ratio >= 0.6,
    case-insensitive). A data column is suggested for one template column at most (earlier ones first)."""
    before = before or {}
    taken: set[str] = set()
    out: dict[str, str | None] = {}
    for want in wanted:
        pick = before.get(want) if before.get(want) in columns else None
        if pick is None and want in columns:
            pick = want
        if pick is None:
            loose = [c for c in columns if loose_name(c) == loose_name(want)]
            pick = loose[0] if len(loose) == 1 else None
        if pick is None:
            free = [c for c in columns if c not in taken and c not in wanted]
            pick = closest_column(want, free) if free else None
        out[want] = pick
        if pick:
            taken.add(pick)
    return out


def mapping_for(template: TemplateSpec | None, dataset: Dataset | None) -> dict[str, str]:
    """What the Data tab passes to :func:`docgen.sources.prepare_dataset` as ``mapping``: the remembered choices
    for ``template``'s required columns over ``dataset``'s header, leaving out a column mapped to itself."""
    if template is None or dataset is None or not template.required_columns:
        return {}
    chosen = remembered(dataset.column_names)
    return {want: chosen[want] for want in template.required_columns if chosen.get(want) not in (None, want)}


def _example(dataset: Dataset, column: str) -> str:
    """The first non-empty value of ``column`` among the first rows, shortened, for the dialog's hints."""
    for row in dataset.rows[:20]:
        value = row.get(column)
        if value is not None and str(value).strip():
            text = " ".join(str(value).split())
            return text if len(text) <= 60 else text[:57] + "…"
    return ""


class MatchFieldsDialog(QDialog):
    """One row per template column: its name and a drop-down of the data file's columns (with the column's
    type and a first value), pre-filled by :func:`suggest`. OK (Enter) keeps the choice, Cancel (Esc) changes
    nothing. :meth:`mapping` is the choice: template column -> data column (None where not matched)."""

    def __init__(self, template: TemplateSpec, dataset: Dataset, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Match Fields")
        self.setAccessibleName("Match Fields")
        self.template, self.dataset = template, dataset
        names = dataset.column_names
        types = {c.name: c.type for c in dataset.columns}
        picks = suggest(template.required_columns, names, remembered(names))
        intro = QLabel(f"Template “{template.name}” reads the columns on the left. Pick the column of "
                       f"{dataset.path.name} that holds each one. docgen remembers the choice for files with "
                       "these same columns.")
        intro.setWordWrap(True)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.combos: dict[str, QComboBox] = {}
        self.hints: dict[str, QLabel] = {}
        for want in template.required_columns:
            combo = QComboBox()
            combo.setAccessibleName(f"Data column for {want}")
            combo.setToolTip(f"The column of {dataset.path.name} that the template reads as '{want}'")
            combo.addItem(NOT_MATCHED, None)
            for name in names:
                combo.addItem(f"{name}   ({types.get(name, 'text')})", name)
            pick = picks.get(want)
            combo.setCurrentIndex(combo.findData(pick) if pick else 0)
            hint = QLabel()
            hint.setStyleSheet("QLabel { color: gray; }")
            hint.setAccessibleName(f"Example value for {want}")
            hint.setWordWrap(True)
            label = QLabel(want.replace("&", "&&") + ":")
            label.setBuddy(combo)
            cell = QVBoxLayout()
            cell.setSpacing(1)
            cell.addWidget(combo)
            cell.addWidget(hint)
            form.addRow(label, cell)
            self.combos[want], self.hints[want] = combo, hint
            combo.currentIndexChanged.connect(lambda _i, w=want: self._show_hint(w))
            self._show_hint(want)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Use these columns")
        buttons.button(QDialogButtonBox.StandardButton.Ok).setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())
        first = next((c for c in self.combos.values() if c.currentData() is None), None)
        if first is None and self.combos:
            first = next(iter(self.combos.values()))
        if first is not None:  # the keyboard starts at the first column still to match
            first.setFocus()

    def _show_hint(self, want: str) -> None:
        have = self.combos[want].currentData()
        example = _example(self.dataset, have) if have else ""
        if have is None:
            text = "Not matched: documents cannot be made until a column is picked."
        elif example:
            text = f"e.g. {example}"
        else:
            text = "(empty in the first rows)"
        self.hints[want].setText(text)

    def mapping(self) -> dict[str, str | None]:
        """Template column -> the chosen data column (None: not matched)."""
        return {want: combo.currentData() for want, combo in self.combos.items()}


class MatchFields:
    """The window's Match Fields piece: the Data-tab button, the File menu action and the dialog's effect
    (remember, then prepare the data again with the mapping)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.dialog: MatchFieldsDialog | None = None
        self.button = QPushButton("&Match Fields…")
        self.button.setAccessibleName("Match Fields")
        self.button.setToolTip("Pick the data column for each column the template reads")
        self.button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # never the row's width
        self.button.clicked.connect(self.open)
        panel = window.data.panel
        self.note = QLabel()  # which columns are read under another name now
        self.note.setAccessibleName("Matched fields")
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)
        row.addWidget(self.note, 1)
        layout = panel.layout()
        layout.insertLayout(layout.indexOf(panel.problem) + 1, row)
        self.action = QAction("Match Fields…", window)
        self.action.setShortcut(QKeySequence("Ctrl+Shift+M"))
        self.action.setToolTip(self.button.toolTip())
        self.action.triggered.connect(self.open)
        window.addAction(self.action)
        window.menus["file"].insertAction(window.export_action, self.action)  # after Open data…
        window.data.checked.connect(self.update)
        window.template_changed.connect(lambda _spec: self.update())
        window.data.loading_changed.connect(lambda _busy: self.update())
        window.runs.busy_changed.connect(lambda _busy: self.update())
        self.update()

    def usable(self) -> bool:
        """True when a template with required columns and a read data file are there and no run is busy."""
        template, dataset = self.window.template, self.window.dataset
        return bool(template is not None and template.required_columns and dataset is not None
                    and not self.window.busy and not self.window.data.loading)

    def update(self) -> None:
        """Show the button when the template reads columns of the loaded data (enable the action likewise) and,
        beside it, which template columns read another column of the file now."""
        usable = self.usable()
        self.button.setVisible(usable)
        self.action.setEnabled(usable)
        window = self.window
        mapped = mapping_for(window.template, window.dataset) if usable and not window.data.unmatched else {}
        self.note.setText("Matched: " + ", ".join(f"{want} ← {have}" for want, have in mapped.items())
                          if mapped else "")
        self.note.setVisible(bool(mapped))

    def open(self) -> MatchFieldsDialog | None:
        """Open the dialog (window-modal, not blocking); its OK applies the choice. Returns the dialog."""
        if not self.usable():
            return None
        dialog = MatchFieldsDialog(self.window.template, self.window.dataset, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply(dialog.mapping()))
        dialog.destroyed.connect(lambda *_: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def apply(self, mapping: Mapping[str, str | None]) -> None:
        """Remember ``mapping`` for the loaded data's header and make the data ready with it: prepared again in
        place when the last preparation stopped at missing columns (nothing was added yet), else read again (its computed columns
        and names start clean)."""
        data, dataset = self.window.data, self.window.dataset
        if dataset is None:
            return
        remember(dataset.column_names, mapping)
        if data.unmatched:
            data.check_columns()
            data.dataset_changed.emit()
        else:
            data.load(dataset.path, dataset.sheet)


def install(window: MainWindow) -> MatchFields:
    """Add Match Fields to ``window`` (the Data tab's button under the problem, File > Match Fields…,
    Ctrl+Shift+M)."""
    window.match_fields = MatchFields(window)
    return window.match_fields
