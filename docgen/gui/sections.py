"""Review panels: one per section the model writes. Text streams in live; the user can edit it (which locks it,
so a later Generate keeps the edit), regenerate it alone (optionally with a new seed), or lock/unlock it.

Per-row sections (``per_row = true``: one answer per data row, e.g. a sentiment label) get a read-only log.
"""

from __future__ import annotations

import random
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics, QTextCursor
from PySide6.QtWidgets import (QCheckBox, QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton,
                               QScrollArea, QVBoxLayout, QWidget)

from docgen.model import SectionResult, SectionSpec


class SectionPanel(QGroupBox):
    """One section: status, Regenerate / New seed / Lock, the text, and warnings."""

    regenerate_requested = Signal(str, bool)  # section id, new seed
    changed = Signal()

    def __init__(self, spec: SectionSpec, parent=None) -> None:
        super().__init__(spec.title, parent)
        self.spec = spec
        self.edited = False
        self.seed: int | None = None
        self.generated = False
        self._programmatic = False
        self._busy = False
        self.setAccessibleName(f"Section {spec.title}")
        self.status = QLabel("Not written yet")
        self.status.setAccessibleName(f"{spec.title} status")
        self.regenerate_button = QPushButton("&Regenerate" if not spec.per_row else "Runs with Generate")
        self.regenerate_button.setAccessibleName(f"Regenerate {spec.title}")
        self.regenerate_button.setToolTip("Write this section again; the other sections stay as they are")
        self.new_seed = QCheckBox("New seed")
        self.new_seed.setChecked(True)
        self.new_seed.setAccessibleName(f"Use a new seed when regenerating {spec.title}")
        self.new_seed.setToolTip("Sample different text; untick to repeat the same seed (e.g. after changing fields)")
        self.lock = QCheckBox("Lock")
        self.lock.setAccessibleName(f"Lock {spec.title}")
        self.lock.setToolTip("A locked section is kept as it is by Generate. Editing a section locks it.")
        self.editor = QPlainTextEdit()
        self.editor.setAccessibleName(f"{spec.title} text")
        self.editor.setTabChangesFocus(True)
        self.editor.setPlaceholderText("Generate (Ctrl+G) writes this section; you can then edit it here.")
        lines = 3 if spec.format == "choice" else 8
        self.editor.setMinimumHeight(QFontMetrics(self.editor.font()).lineSpacing() * lines + 12)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("QLabel { color: #8a5a00; }")
        self.warnings.setAccessibleName(f"{spec.title} warnings")
        self.warnings.hide()

        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.new_seed)
        top.addWidget(self.regenerate_button)
        top.addWidget(self.lock)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.warnings)
        if spec.per_row:
            self.editor.setReadOnly(True)
            self.editor.setPlaceholderText("One answer per data row appears here while Generate runs.")
            self.regenerate_button.setEnabled(False)
            self.new_seed.hide()
            self.lock.hide()
            self.regenerate_button.hide()
            self.status.setText("One answer per row, written by Generate")

        self.editor.textChanged.connect(self._text_changed)
        self.lock.toggled.connect(self._lock_toggled)
        self.regenerate_button.clicked.connect(self._regenerate_clicked)
        self._update_buttons()

    # -- state ---------------------------------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        """True when Generate must keep this section's text."""
        return self.lock.isChecked()

    def text(self) -> str:
        """The section's current text."""
        return self.editor.toPlainText()

    def set_text(self, text: str) -> None:
        """Replace the text without marking it edited."""
        self._programmatic = True
        try:
            self.editor.setPlainText(text)
        finally:
            self._programmatic = False

    def set_busy(self, busy: bool) -> None:
        """Disable Regenerate while any run is active."""
        self._busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        can = not self._busy and not self.locked and not self.spec.per_row
        self.regenerate_button.setEnabled(can)
        self.editor.setReadOnly(self.spec.per_row or (self._busy and self.status.text().startswith("Writing")))

    # -- streaming -----------------------------------------------------------------------------------------
    def begin(self) -> None:
        """The model starts on this section: clear it and show that it is being written."""
        self.set_text("")
        self.status.setText("Writing…")
        self.warnings.hide()
        self._update_buttons()

    def append(self, piece: str) -> None:
        """Add streamed text at the end, keeping the view scrolled to it."""
        self._programmatic = True
        try:
            cursor = self.editor.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(piece)
            self.editor.setTextCursor(cursor)
            self.editor.ensureCursorVisible()
        finally:
            self._programmatic = False

    def finish(self, result: SectionResult) -> None:
        """The section is written: show the final text, its cost and any warnings."""
        if not self.spec.per_row:
            self.set_text(result.text)
        self.generated = True
        self.edited = False
        self.seed = result.params.seed
        speed = f", {result.tokens / result.seconds:.1f} tokens/s" if result.seconds else ""
        self.status.setText(f"Written: {result.tokens} tokens in {result.seconds:.1f} s{speed} · seed {self.seed}")
        self.set_warnings(result.warnings)
        self._update_buttons()
        self.changed.emit()

    def stopped(self, reason: str) -> None:
        """The run ended before this section was finished."""
        if self.status.text().startswith("Writing"):
            self.status.setText(reason)
        self._update_buttons()

    def set_warnings(self, warnings: tuple[str, ...] | list[str]) -> None:
        """Per-section warnings: max_tokens reached, text cleanup notes, and figures the data does not support
        (the grounding check, :mod:`docgen.grounding`, e.g. "'$5 million' is not in the data (section 'summary')")."""
        self.warnings.setText("\n".join(f"⚠ {w}" for w in warnings))
        self.warnings.setVisible(bool(warnings))

    # -- user actions --------------------------------------------------------------------------------------
    def _text_changed(self) -> None:
        if self._programmatic or self.spec.per_row:
            return
        if not self.edited:
            self.edited = True
            self.status.setText("Edited by you (locked, so Generate keeps it)")
            if not self.lock.isChecked():
                self.lock.setChecked(True)
        self.changed.emit()

    def _lock_toggled(self, _checked: bool) -> None:
        self._update_buttons()
        self.changed.emit()

    def _regenerate_clicked(self) -> None:
        self.regenerate_requested.emit(self.spec.id, self.new_seed.isChecked())

    def next_seed(self, new: bool, default: int) -> int:
        """The seed for regenerating: a fresh random one, or the last one used (else ``default``)."""
        if new:
            return random.randrange(1, 2**31 - 1)
        return self.seed if self.seed is not None else default

    def to_state(self) -> dict[str, Any]:
        """JSON-ready state for autosave."""
        return {"text": self.text(), "locked": self.locked, "edited": self.edited, "seed": self.seed,
                "generated": self.generated}

    def from_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`to_state` output."""
        self.set_text(str(state.get("text", "")))
        self.edited = bool(state.get("edited"))
        self.generated = bool(state.get("generated")) or bool(self.text())
        seed = state.get("seed")
        self.seed = seed if isinstance(seed, int) else None
        self.lock.setChecked(bool(state.get("locked")))
        if self.text():
            self.status.setText("Restored from your unsaved work" + (" (edited)" if self.edited else ""))
        self._update_buttons()


class SectionsView(QScrollArea):
    """A scrollable column of :class:`SectionPanel`, one per section of the template."""

    regenerate_requested = Signal(str, bool)
    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setAccessibleName("Sections")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.panels: dict[str, SectionPanel] = {}
        self._body = QWidget()
        self._layout = QVBoxLayout(self._body)
        self._hint = QLabel("Choose a template and data, then press Generate (Ctrl+G). The model writes each "
                            "section here; review, edit, regenerate or lock them, then Export (Ctrl+E).")
        self._hint.setWordWrap(True)
        self._layout.addWidget(self._hint)
        self._layout.addStretch(1)
        self.setWidget(self._body)

    def set_sections(self, specs: tuple[SectionSpec, ...] | list[SectionSpec]) -> None:
        """One panel per section (old panels are removed)."""
        for panel in self.panels.values():
            self._layout.removeWidget(panel)
            panel.deleteLater()
        self.panels = {}
        for spec in specs:
            panel = SectionPanel(spec)
            panel.regenerate_requested.connect(self.regenerate_requested)
            panel.changed.connect(self.changed)
            self._layout.insertWidget(self._layout.count() - 1, panel)
            self.panels[spec.id] = panel
        self._hint.setVisible(not self.panels)

    def set_busy(self, busy: bool) -> None:
        """Disable per-section actions during a run."""
        for panel in self.panels.values():
            panel.set_busy(busy)

    def editable_panels(self) -> list[SectionPanel]:
        """Panels of document sections (not per-row ones)."""
        return [p for p in self.panels.values() if not p.spec.per_row]

    def texts(self) -> dict[str, str]:
        """Section id -> text for document sections."""
        return {p.spec.id: p.text() for p in self.editable_panels()}

    def locked_texts(self) -> dict[str, str]:
        """Section id -> text for locked (or edited) sections, which Generate must keep."""
        return {p.spec.id: p.text() for p in self.editable_panels() if p.locked}

    def all_written(self) -> bool:
        """True when every document section has text (so the document can be exported)."""
        panels = self.editable_panels()
        return bool(panels) and all(p.text().strip() for p in panels) or (
            not panels and any(p.generated for p in self.panels.values()))
