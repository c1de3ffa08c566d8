"""Export (Ctrl+E) and the Preview tab.

The export gate: before anything is written, the draft's problems (sections empty, cancelled or failed
mid-way, sentences marked by the claim check that the reviewer neither removed nor kept) are listed in one
question, "2 sections have problems: export anyway?". Then Save As (in the configured output folder), then the
worker: it checks the reviewed text once more (the figures the user typed are checked too) and, when that check
marks a sentence the reviewer has not seen, comes back to ask before writing; else it writes the .docx (and the
PDF when asked). The written document is shown in the Preview tab.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QCheckBox

from docgen.draft import Problem, mark_key, marks_from_figures
from docgen.errors import DocgenError
from docgen.gui import dialogs
from docgen.gui.preview import PreviewPanel
from docgen.model import DocumentResult, ProgressEvent
from docgen.pipeline import generate
from docgen.render import convert_to_pdf, pdf_available

if TYPE_CHECKING:
    from docgen.gui.main_window import MainWindow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NeedsReview:
    """The export check found marks the reviewer has not seen: nothing was written."""

    path: Path
    result: DocumentResult


def gate_question(problems: list[Problem]) -> str:
    """The export gate's question: how many sections, which, and what is wrong with each."""
    sections = {p.section_id for p in problems}
    n = len(sections)
    head = f"{n} section{'s have' if n > 1 else ' has'} problems: export anyway?"
    return head + "\n\n" + "\n".join(f"• {p.describe()}" for p in problems)


class ExportController:
    """Owns export and the Preview tab (``widget``) and the "Also save as PDF" option (``pdf_check``)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.preview = PreviewPanel()
        self.preview.layout().setContentsMargins(6, 6, 6, 6)
        self.widget = self.preview
        self.last_export: Path | None = None
        self.pdf_error: str | None = None
        self.pdf_check = QCheckBox("&Also save as PDF")  # Alt+P is the gallery's "Open template package"
        self.pdf_check.setAccessibleName("Also save as PDF when exporting")
        reason = pdf_available()
        self.pdf_check.setEnabled(reason is None)
        self.pdf_check.setToolTip(reason or "Export also writes a PDF next to the Word file (through LibreOffice "
                                  "or Microsoft Word).")
        self.preview.open_button.clicked.connect(self.window.open_exported)
        self.preview.folder_button.clicked.connect(self.window.open_export_folder)

    def export_folder(self) -> Path:
        """Where Save As opens: the folder of the last export, else the configured output folder (created, so
        the dialog does not fall back to the working folder), else the home folder."""
        if self.last_export is not None and self.last_export.parent.is_dir():
            return self.last_export.parent
        folder = self.window.settings.effective_output_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("Cannot create the output folder %s: %s", folder, exc)
            return Path.home()
        return folder

    def export_dialog(self) -> None:
        """Ctrl+E: the gate, Save As, then the export run."""
        window = self.window
        if not window.ready("export"):
            return
        problems = window.drafts.current.problems()
        if problems and not self.ask_gate(problems):
            return
        path = dialogs.save_file(window, "Export the document", self.export_folder() / window.suggested_name())
        if path:
            self.start_export(path, asked=True)

    def ask_gate(self, problems: list[Problem]) -> bool:
        """Ask the export gate's question; on No, show the first section with a problem."""
        if dialogs.ask(self.window, "Export with problems?", gate_question(problems)):
            log.info("Export confirmed with problems: %s", "; ".join(p.describe() for p in problems))
            return True
        self.window.show_section(problems[0].section_id)
        return False

    def start_export(self, path: Path, *, asked: bool = False, confirmed: bool = False):
        """Write the document with the reviewed text of every section to ``path``. Without ``asked``, the
        draft's problems are asked about first (the gate); ``confirmed`` writes without checking again."""
        window = self.window
        if not window.ready("export"):
            return None
        draft = window.drafts.current
        if not asked and not confirmed:
            problems = draft.problems()
            if problems and not self.ask_gate(problems):
                return None
        job = window.job(fixed_sections=draft.texts())
        options = window.run_options()
        want_pdf = self.pdf_check.isEnabled() and self.pdf_check.isChecked()
        known = {sid: {mark_key(m) for m in s.marks} | set(s.kept) for sid, s in draft.sections.items()}
        self.pdf_error = None
        path = Path(path)

        def task(gen, on_event, cancel):
            if not confirmed:  # check the text as it is now: new marks come back to the reviewer first
                check = generate(job, gen, None, options=options, cancel=cancel)
                for section in check.sections:
                    marks = section.marks or marks_from_figures(section.text, section.ungrounded)
                    if any(mark_key(m) not in known.get(section.id, set()) for m in marks):
                        return NeedsReview(path, check)
            path.parent.mkdir(parents=True, exist_ok=True)
            result = generate(job, gen, path, options=options, on_event=on_event, cancel=cancel)
            if want_pdf and result.path:
                try:
                    convert_to_pdf(result.path)
                except DocgenError as exc:  # the .docx is written; report the PDF problem only
                    self.pdf_error = str(exc)
            return result

        return window.runs.start("export", task, f"Writing {path.name}…", self)

    # -- run signals ------------------------------------------------------------------------------------------
    def on_progress(self, _kind: str, event: ProgressEvent) -> None:
        """Export progress: per-row sections of a restored draft may run again (the section cache usually answers)."""
        if event.kind == "token" and event.tokens_per_second:
            self.window.runs.set_speed(event.tokens_per_second)

    def on_succeeded(self, _kind: str, result: Any) -> None:
        """Either the check found new marks (ask, then write) or the document was written (preview it)."""
        window = self.window
        draft = window.drafts.current
        if isinstance(result, NeedsReview):
            for section in result.result.sections:
                if section.id in draft.sections:
                    draft.apply_check(section)
            window.review.show_draft()
            problems = draft.problems()
            window.work_changed()
            if problems and self.ask_gate(problems):
                window.runs.after(lambda: self.start_export(result.path, confirmed=True))
            elif not problems:
                window.runs.after(lambda: self.start_export(result.path, confirmed=True))
            return
        if not isinstance(result, DocumentResult) or not result.path:
            return
        for section in result.sections:
            if section.id in draft.sections:
                draft.apply_check(section)
        draft.mark_exported(str(result.path))
        window.review.show_draft()
        self.last_export = result.path
        pdf = " and PDF" if self.pdf_check.isChecked() and self.pdf_check.isEnabled() else ""
        window.statusBar().showMessage(f"Saved {result.path}{pdf if not self.pdf_error else ''}")
        if self.pdf_error:
            window.error("PDF not saved", f"The Word document was saved, but not the PDF: {self.pdf_error}")
        try:
            self.preview.show_document(result.path)
        except Exception as exc:  # noqa: BLE001 - the document is written; a preview problem is minor
            self.preview.title.setText(f"Saved {result.path}, but the preview failed: {exc}")
        window.tabs.setCurrentWidget(self.widget)
        window.work_changed(save_now=True)

    def on_failed(self, _kind: str, message: str) -> None:
        """The export failed: nothing was written (atomic write); say why."""
        self.window.statusBar().showMessage("Stopped by an error")
        self.window.error("Cannot export", message)

    def on_cancelled(self, _kind: str) -> None:
        """The export was cancelled before the document was written."""
        self.window.statusBar().showMessage("Cancelled")
