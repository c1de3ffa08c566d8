"""Review panels: one per section the model writes, each showing one :class:`~docgen.draft.SectionDraft`.

Text streams in live; the user can edit it (which locks it, so a later Generate keeps the edit), regenerate it
alone (optionally with a new seed), or lock/unlock it. Sentences the claim check marked are highlighted in the
text and listed under it, each with **Remove sentence** and **Keep**. The panels only *show* the draft and
*report* what the user did (signals); the review controller changes the draft (:mod:`docgen.draft`, where the
text surgery lives) and shows it again.

Per-row sections (``per_row = true``: one answer per data row, e.g. a sentiment label) get a read-only log.
"""

from __future__ import annotations

import random

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QCheckBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy,
                               QTextEdit, QVBoxLayout, QWidget)

from docgen.draft import SectionDraft
from docgen.gui.richtext import MarkdownEditor, plain_sentence
from docgen.model import Mark, SectionSpec

MARK_COLOR = "#ffe08a"
_STATUS = {
    "empty": "Not written yet",
    "writing": "Writing…",
    "edited": "Edited by you (locked, so Generate keeps it)",
    "cancelled": "Cancelled before it was finished: review, finish or regenerate it",
    "failed": "Stopped by an error before it was finished: review, finish or regenerate it",
}


def status_text(s: SectionDraft) -> str:
    """The one-line status of a section: its state, and for model text its cost and seed."""
    if s.state == "written" and s.cached:
        return "Written · from the section cache (same prompt and seed, 0 tokens)" + (
            f" · seed {s.seed}" if s.seed is not None else "")
    if s.state == "written":
        speed = f", {s.tokens / s.seconds:.1f} tokens/s" if s.seconds else ""
        cost = f": {s.tokens} tokens in {s.seconds:.1f} s{speed}" if s.tokens else ""
        return f"Written{cost}" + (f" · seed {s.seed}" if s.seed is not None else "")
    return _STATUS.get(s.state, s.state)


def group_marks(marks: tuple[Mark, ...]) -> list[list[Mark]]:
    """Marks grouped by the sentence they are anchored on, in text order (one row per sentence)."""
    groups: dict[tuple[int, int, str], list[Mark]] = {}
    for mark in marks:
        groups.setdefault((mark.start, mark.end, mark.sentence), []).append(mark)
    return list(groups.values())


class MarkRow(QWidget):
    """One marked sentence under the text: what is wrong with it (every mark on it), the sentence as shown,
    Remove sentence / Keep."""

    def __init__(self, marks: list[Mark], number: int, title: str, parent=None) -> None:
        super().__init__(parent)
        self.marks = marks
        self.mark = marks[0]
        messages = "; ".join(m.message for m in marks)
        evidence = "; ".join(dict.fromkeys(m.evidence for m in marks if m.evidence))
        evidence = f" The data says: {evidence}." if evidence else ""
        self.label = QLabel(f"⚠ {messages}.{evidence} “{plain_sentence(self.mark.sentence)}”")
        self.label.setWordWrap(True)
        self.label.setStyleSheet("QLabel { color: #6b4700; }")
        self.label.setAccessibleName(f"Marked sentence {number} of {title}")
        self.remove_button = QPushButton("Remove sentence")
        self.remove_button.setAccessibleName(f"Remove marked sentence {number} of {title}")
        self.remove_button.setToolTip("Delete this sentence from the section (Undo puts it back)")
        self.keep_button = QPushButton("Keep")
        self.keep_button.setAccessibleName(f"Keep marked sentence {number} of {title}")
        self.keep_button.setToolTip("The sentence is right: keep it and stop asking about it at export")
        for button in (self.remove_button, self.keep_button):
            # never narrower than their text: a long message beside them squeezed "Remove sentence" under "Keep"
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.keep_button, 0, Qt.AlignmentFlag.AlignTop)


class SectionPanel(QGroupBox):
    """One section: status, New seed / Regenerate / Lock / Undo, the text, its marks and warnings."""

    edited = Signal(str, str)  # section id, new text (Markdown)
    lock_toggled = Signal(str, bool)
    regenerate_requested = Signal(str, bool)  # section id, new seed
    remove_mark_requested = Signal(str, object)  # section id, Mark
    keep_mark_requested = Signal(str, object)
    undo_requested = Signal(str)

    def __init__(self, spec: SectionSpec, parent=None) -> None:
        super().__init__(spec.title, parent)
        self.spec = spec
        self.state = "empty"
        self._programmatic = False
        self._busy = False
        self.marks: tuple[Mark, ...] = ()
        self.mark_rows: list[MarkRow] = []
        self.setAccessibleName(f"Section {spec.title}")
        self.status = QLabel(_STATUS["empty"])
        self.status.setAccessibleName(f"{spec.title} status")
        self.status.setWordWrap(True)
        self.regenerate_button = QPushButton("Re&generate" if not spec.per_row else "Runs with Generate")
        self.regenerate_button.setAccessibleName(f"Regenerate {spec.title}")
        self.regenerate_button.setToolTip("Write this section again; the other sections stay as they are")
        self.new_seed = QCheckBox("New seed")
        self.new_seed.setChecked(True)
        self.new_seed.setAccessibleName(f"Use a new seed when writing {spec.title} again")
        self.new_seed.setToolTip("Generate and Regenerate sample different text; untick to repeat the same seed "
                                 "(e.g. after changing fields)")
        self.lock = QCheckBox("Lock")
        self.lock.setAccessibleName(f"Lock {spec.title}")
        self.lock.setToolTip("A locked section is kept as it is by Generate. Editing a section locks it.")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setAccessibleName(f"Undo the last change to {spec.title}")
        self.undo_button.setToolTip("Put back the text before the last removal or edit")
        self.undo_button.hide()
        self.editor = MarkdownEditor(rich=spec.format == "markdown")
        self.editor.setAccessibleName(f"{spec.title} text")
        self.editor.setTabChangesFocus(True)
        self.editor.setPlaceholderText("Generate (Ctrl+G) writes this section; you can then edit it here.")
        lines = 3 if spec.format == "choice" else 8
        self.editor.setMinimumHeight(QFontMetrics(self.editor.font()).lineSpacing() * lines + 12)
        self.marks_box = QWidget()
        self.marks_box.setAccessibleName(f"{spec.title} marked sentences")
        self.marks_layout = QVBoxLayout(self.marks_box)
        self.marks_layout.setContentsMargins(0, 0, 0, 0)
        self.marks_box.hide()
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("QLabel { color: #8a5a00; }")
        self.warnings.setAccessibleName(f"{spec.title} warnings")
        self.warnings.hide()

        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.undo_button)
        top.addWidget(self.new_seed)
        top.addWidget(self.regenerate_button)
        top.addWidget(self.lock)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.marks_box)
        layout.addWidget(self.warnings)
        if spec.per_row:
            self.editor.setReadOnly(True)
            self.editor.setPlaceholderText("One answer per data row appears here while Generate runs.")
            for widget in (self.new_seed, self.lock, self.regenerate_button):
                widget.hide()
            self.status.setText("One answer per row, written by Generate")

        self.editor.textChanged.connect(self._text_changed)
        self.lock.toggled.connect(self._lock_toggled)
        self.regenerate_button.clicked.connect(
            lambda: self.regenerate_requested.emit(self.spec.id, self.new_seed.isChecked()))
        self.undo_button.clicked.connect(lambda: self.undo_requested.emit(self.spec.id))
        self._update_buttons()

    # -- showing the draft ------------------------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        """True when Generate must keep this section's text."""
        return self.lock.isChecked()

    def text(self) -> str:
        """The section's text as Markdown (what the editor shows, written back)."""
        return self.editor.markdown()

    def set_text(self, text: str) -> None:
        """Replace the text without reporting an edit."""
        self._programmatic = True
        try:
            self.editor.set_markdown(text)
        finally:
            self._programmatic = False

    def show_section(self, s: SectionDraft, *, note: str = "", can_undo: bool = False) -> None:
        """Show ``s``: text (unless the editor already holds it), status (or ``note``), lock, marks, warnings."""
        self.state = s.state
        if self.editor.markdown() != s.text:
            self.set_text(s.text)
        self.status.setText(note or status_text(s))
        self._programmatic = True
        try:
            self.lock.setChecked(s.locked)
        finally:
            self._programmatic = False
        self.undo_button.setVisible(can_undo)
        self.set_marks(s.open_marks)
        claims = [f"'{m.claim}'" for m in s.marks]
        self.set_warnings([w for w in s.warnings if not any(c in w for c in claims)])
        self._update_buttons()

    def set_marks(self, marks: tuple[Mark, ...]) -> None:
        """List ``marks`` under the text and highlight their sentences in it."""
        self.marks = marks
        for row in self.mark_rows:
            self.marks_layout.removeWidget(row)
            row.hide()  # deleteLater waits for the event loop; until then the old row showed under the new one
            row.deleteLater()
        self.mark_rows = []
        for number, group in enumerate(group_marks(marks), 1):
            row = MarkRow(group, number, self.spec.title)
            row.remove_button.clicked.connect(
                lambda _c=False, m=group[0]: self.remove_mark_requested.emit(self.spec.id, m))
            row.keep_button.clicked.connect(lambda _c=False, g=group: [
                self.keep_mark_requested.emit(self.spec.id, m) for m in g])
            self.marks_layout.addWidget(row)
            self.mark_rows.append(row)
        self.marks_box.setVisible(bool(marks))
        self._highlight()

    def _highlight(self) -> None:
        selections = []
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(MARK_COLOR))
        for mark in {m.sentence: m for m in self.marks}.values():
            cursor = self.editor.find_sentence(mark.sentence)
            if cursor is not None:
                selection = QTextEdit.ExtraSelection()
                selection.cursor = cursor
                selection.format = fmt
                selections.append(selection)
        self.editor.setExtraSelections(selections)

    def set_warnings(self, warnings: tuple[str, ...] | list[str]) -> None:
        """Per-section warnings: max_tokens reached, text cleanup notes, figures the data does not support
        (the grounding check) that are not shown as marked sentences."""
        self.warnings.setText("\n".join(f"⚠ {w}" for w in warnings))
        self.warnings.setVisible(bool(warnings))

    def set_busy(self, busy: bool) -> None:
        """Disable Regenerate and the mark buttons while any run is active."""
        self._busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        can = not self._busy and not self.locked and not self.spec.per_row
        self.regenerate_button.setEnabled(can)
        self.editor.setReadOnly(self.spec.per_row or (self._busy and self.state == "writing"))
        for row in self.mark_rows:
            row.remove_button.setEnabled(not self._busy)
            row.keep_button.setEnabled(not self._busy)

    # -- streaming --------------------------------------------------------------------------------------------
    def begin(self) -> None:
        """The model starts on this section: clear it and show that it is being written."""
        self.state = "writing"
        self.set_text("")
        self.status.setText(_STATUS["writing"])
        self.warnings.hide()
        self.set_marks(())
        self._update_buttons()

    def append(self, piece: str) -> None:
        """Add streamed text at the end (shown as source while it streams), keeping the view scrolled to it."""
        self._programmatic = True
        try:
            cursor = self.editor.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(piece)
            self.editor.setTextCursor(cursor)
            self.editor.ensureCursorVisible()
        finally:
            self._programmatic = False

    def streamed(self) -> str:
        """What streamed in so far (the raw model text)."""
        return self.editor.toPlainText()

    # -- user actions -----------------------------------------------------------------------------------------
    def _text_changed(self) -> None:
        if self._programmatic or self.spec.per_row:
            return
        self.edited.emit(self.spec.id, self.text())

    def _lock_toggled(self, checked: bool) -> None:
        self._update_buttons()
        if not self._programmatic:
            self.lock_toggled.emit(self.spec.id, checked)

    def next_seed(self, new: bool, last: int | None, default: int) -> int:
        """The seed for writing again: a fresh random one, or the last one used (else ``default``)."""
        if new:
            return random.randrange(1, 2**31 - 1)
        return last if last is not None else default


class SectionsView(QScrollArea):
    """A scrollable column of :class:`SectionPanel`, one per section of the template; forwards their signals."""

    edited = Signal(str, str)
    lock_toggled = Signal(str, bool)
    regenerate_requested = Signal(str, bool)
    remove_mark_requested = Signal(str, object)
    keep_mark_requested = Signal(str, object)
    undo_requested = Signal(str)

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
            for name in ("edited", "lock_toggled", "regenerate_requested", "remove_mark_requested",
                         "keep_mark_requested", "undo_requested"):
                getattr(panel, name).connect(getattr(self, name))
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
