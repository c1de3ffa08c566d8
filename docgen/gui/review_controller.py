"""The Review tab: Generate (every section that is not locked) and Regenerate (one section) on the worker, the
streamed text, and what the user does to a section (edit, lock, Remove / Keep a marked sentence, Undo), all as
changes of the current :class:`~docgen.draft.Draft`; the panels only show it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from docgen.draft import Draft, DraftError
from docgen.gui.sections import SectionsView
from docgen.model import DocumentResult, Mark, ProgressEvent, TemplateSpec
from docgen.pipeline import generate

if TYPE_CHECKING:
    from docgen.gui.main_window import MainWindow

log = logging.getLogger(__name__)


class ReviewController:
    """Owns the Review tab (``widget``): the job line, why Generate is off, the section panels, and a
    ``footer`` row other controllers add to (the export's PDF option)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.job_label = QLabel()
        self.job_label.setWordWrap(True)
        self.job_label.setAccessibleName("What is being written")
        self.generate_note = QLabel()
        self.generate_note.setWordWrap(True)
        self.generate_note.setAccessibleName("Why Generate is off")
        self.generate_note.setStyleSheet("QLabel { color: #a00000; }")
        self.generate_note.hide()
        self.sections_view = SectionsView()
        self.widget = QWidget()
        self.footer = QHBoxLayout()
        layout = QVBoxLayout(self.widget)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.job_label)
        layout.addWidget(self.generate_note)
        layout.addWidget(self.sections_view, 1)
        layout.addLayout(self.footer)
        self._notes: dict[str, str] = {}
        view = self.sections_view
        view.edited.connect(self._edited)
        view.lock_toggled.connect(self._lock_toggled)
        view.regenerate_requested.connect(self.start_regenerate)
        view.remove_mark_requested.connect(self.remove_mark)
        view.keep_mark_requested.connect(self.keep_mark)
        view.undo_requested.connect(self.undo)

    @property
    def draft(self) -> Draft | None:
        """The draft under review."""
        return self.window.drafts.current

    # -- showing --------------------------------------------------------------------------------------------
    def show_template(self, spec: TemplateSpec) -> None:
        """One panel per section of ``spec``."""
        self.sections_view.set_sections(spec.sections)

    def show_draft(self, note: str = "") -> None:
        """Show every section of the current draft (``note`` replaces the status line of sections with text)."""
        draft = self.draft
        if draft is None:
            return
        for sid, panel in self.sections_view.panels.items():
            section = draft.sections.get(sid)
            if section is not None:
                self._notes[sid] = note if note and section.text else ""
                self.show_section(sid)

    def show_section(self, sid: str) -> None:
        """Show one section of the draft in its panel."""
        draft, panel = self.draft, self.sections_view.panels.get(sid)
        if draft is None or panel is None or sid not in draft.sections:
            return
        can_undo = any(c.section_id == sid and c.action in ("edit", "remove") for c in draft.history)
        panel.show_section(draft.sections[sid], note=self._notes.get(sid, ""), can_undo=can_undo)

    def update_job_label(self) -> None:
        """The line saying which template, data and record is being written."""
        template, dataset = self.window.template, self.window.dataset
        if template is None:
            self.job_label.setText("")
            return
        text = f"<b>{template.name}</b>"
        if dataset is not None:
            text += f" · {dataset.path.name} ({len(dataset.rows):,} rows)"
            row = self.window.data.current_row()
            if row is not None:
                text += f" · document for row {dataset.row_numbers[row]} (select another row in the Data tab)"
        self.job_label.setText(text)

    def set_generate_reason(self, reason: str) -> None:
        """Say why Generate is off ('' hides the note)."""
        self.generate_note.setText(f"Generate is off: {reason}" if reason else "")
        self.generate_note.setVisible(bool(reason))

    # -- user actions on sections -------------------------------------------------------------------------------
    def _edited(self, sid: str, text: str) -> None:
        if self.draft is None or sid not in self.draft.sections:
            return
        self.draft.edit(sid, text)
        self._notes[sid] = ""
        self.show_section(sid)
        self.window.work_changed()

    def _lock_toggled(self, sid: str, locked: bool) -> None:
        if self.draft is not None and sid in self.draft.sections:
            self.draft.set_locked(sid, locked)
            self.window.work_changed()

    def remove_mark(self, sid: str, mark: Mark) -> None:
        """Remove sentence: the draft deletes the marked sentence from the Markdown."""
        if self.draft is None or self.window.busy:
            return
        try:
            self.draft.remove_mark(sid, mark)
        except DraftError as exc:
            self.window.error("Cannot remove the sentence", str(exc))
            return
        self._notes[sid] = ""
        self.show_section(sid)
        self.window.statusBar().showMessage("Sentence removed (Undo puts it back)")
        self.window.work_changed()

    def keep_mark(self, sid: str, mark: Mark) -> None:
        """Keep: the reviewer accepts the marked sentence."""
        if self.draft is None or self.window.busy:
            return
        self.draft.keep_mark(sid, mark)
        self.show_section(sid)
        self.window.work_changed()

    def undo(self, sid: str) -> None:
        """Undo the last edit or removal in section ``sid``."""
        if self.draft is not None and not self.window.busy and self.draft.undo(sid):
            self.show_section(sid)
            self.window.work_changed()

    # -- runs -------------------------------------------------------------------------------------------------
    def _seed(self, sid: str) -> int:
        """Generate honours each panel's New seed box once a section was written; the first time it uses the
        settings' seed (same inputs, same text)."""
        panel, section = self.sections_view.panels[sid], self.draft.sections[sid]
        default = self.window.settings.seed
        if section.seed is None:
            return default
        return panel.next_seed(panel.new_seed.isChecked(), section.seed, default)

    def start_generate(self):
        """Generate every section that is not locked (Ctrl+G)."""
        window = self.window
        if not window.ready("generate"):
            return None
        draft = self.draft
        todo = [sid for sid, s in draft.sections.items() if not s.locked]
        per_row = [s for s in window.template.sections if s.per_row and s.id in self.sections_view.panels]
        if not todo and not per_row:
            window.error("Nothing to generate", "Every section is locked. Unlock a section to let the model "
                         "rewrite it, or Export the document.")
            return None
        seeds = {sid: self._seed(sid) for sid in todo}
        job = window.job(fixed_sections=draft.locked_texts(), seeds=seeds)
        options = window.run_options()
        window.tabs.setCurrentWidget(self.widget)
        return window.runs.start("generate", lambda gen, on_event, cancel: generate(
            job, gen, None, options=options, on_event=on_event, cancel=cancel), "Writing the sections…", self)

    def start_regenerate(self, section_id: str, new_seed: bool = True):
        """Write one section again (its panel's Regenerate button); the other sections are not touched."""
        window, draft = self.window, self.draft
        panel = self.sections_view.panels.get(section_id)
        if panel is None or draft is None or section_id not in draft.sections or draft.sections[section_id].locked:
            return None
        if not window.ready("regenerate"):
            return None
        seed = panel.next_seed(new_seed, draft.sections[section_id].seed, window.settings.seed)
        job = window.job(only_sections=[section_id], seeds={section_id: seed})
        options = window.run_options()
        # Per-row sections run with any document generation; the section cache answers them without the model.
        return window.runs.start("regenerate", lambda gen, on_event, cancel: generate(
            job, gen, None, options=options, on_event=on_event, cancel=cancel),
            f"Rewriting '{panel.spec.title}' (seed {seed})…", self)

    def on_progress(self, _kind: str, event: ProgressEvent) -> None:
        """Stream a run's events into the panels and the status bar."""
        runs, draft = self.window.runs, self.draft
        panel = self.sections_view.panels.get(event.section_id or "")
        if panel is None:
            return
        if event.kind == "section_started":
            if draft is not None and event.section_id in draft.sections:
                draft.begin(event.section_id)
            panel.begin()
            runs.set_progress(event.section, event.sections, "%v / %m sections")
            self.window.statusBar().showMessage(f"Writing '{panel.spec.title}'…")
        elif event.kind == "token":
            panel.append(event.text)
            if panel.spec.per_row:
                runs.set_progress(event.section + 1, event.sections, "%v / %m rows")
            else:
                runs.set_speed(event.tokens_per_second)
        elif event.kind == "section_done" and not panel.spec.per_row:
            panel.set_text(event.text)
            panel.status.setText(f"Written ({event.tokens} tokens), checking…")
            runs.set_progress(event.section + 1, event.sections, "%v / %m sections")

    def on_succeeded(self, _kind: str, result: Any) -> None:
        """The run wrote its sections: into the draft (text, seed, warnings, marks), then shown."""
        draft = self.draft
        if draft is None or not isinstance(result, DocumentResult):
            return
        for section in result.sections:
            if section.id not in draft.sections:
                continue
            if section.locked:  # the user's own text: what the checks say about it
                draft.apply_check(section)
            else:
                draft.finish(section)
        draft.end_run()
        self.show_draft()
        tokens = sum(s.tokens for s in result.sections)
        self.window.statusBar().showMessage(f"Written in {result.seconds:.1f} s ({tokens} tokens). Review the "
                                            "sections, then Export (Ctrl+E).")
        self.window.work_changed(save_now=True)

    def _stopped(self, reason: str) -> None:
        draft = self.draft
        if draft is None:
            return
        for sid, panel in self.sections_view.panels.items():
            if sid in draft.sections and draft.sections[sid].state == "writing":
                draft.stopped(sid, panel.streamed(), reason)
            elif panel.spec.per_row and panel.state == "writing":
                panel.status.setText("Cancelled" if reason == "cancelled" else "Stopped by an error")
                panel.state = "empty"
        draft.end_run()
        self.show_draft()
        self.window.work_changed(save_now=True)

    def on_failed(self, kind: str, message: str) -> None:
        """A run stopped with an error: earlier text back (or the unfinished stream kept), then the message."""
        self._stopped("failed")
        self.window.statusBar().showMessage("Stopped by an error")
        self.window.error("Generation failed", message)

    def on_cancelled(self, _kind: str) -> None:
        """A run was cancelled: as a failure, without a message."""
        self._stopped("cancelled")
        self.window.statusBar().showMessage("Cancelled")
