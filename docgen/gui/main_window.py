"""The main window: 1. template (gallery, left) -> 2. data and fields -> 3. review sections -> 4. preview, plus
a Batch tab for mail-merge ("rows") templates.

The window is a shell: it builds the gallery, the tabs, the actions and the status bar, keeps the session's
drafts (:class:`~docgen.draft.DraftBook`, one per template), autosaves them, and delegates each tab to its
controller: :class:`~.data_controller.DataController`, :class:`~.review_controller.ReviewController`,
:class:`~.export_controller.ExportController` and :class:`~.batch_controller.BatchController`. Runs go through
:class:`~.runs.Runs` (one at a time, on a worker thread) and the same pipeline functions as batch mode.

Hooks for GUI pieces that live in their own modules (see :mod:`docgen.gui`): :meth:`MainWindow.add_tab`,
:attr:`MainWindow.menus`, and the signals ``template_changed(TemplateSpec)``, ``dataset_changed()`` and
``draft_changed()``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QSplitter, QTabWidget, QToolBar, QVBoxLayout, QWidget

from docgen import paths
from docgen.batch import safe_filename
from docgen.checks import preflight
from docgen.draft import Draft, DraftBook
from docgen.errors import DocgenError, ModelError
from docgen.gui import autosave, dialogs, match_fields, recent, window_state
from docgen.gui.batch_controller import BatchController
from docgen.gui.data_controller import DataController
from docgen.gui.export_controller import ExportController
from docgen.gui.gallery import GalleryPanel, TemplateListModel
from docgen.gui.models_dialog import ModelBanner, ModelsDialog
from docgen.gui.references_pane import install as install_references
from docgen.gui.review_controller import ReviewController
from docgen.gui.runs import Runs
from docgen.gui.settings_dialog import SettingsDialog
from docgen.gui.workers import GeneratorFactory, ModelSession
from docgen.model import Dataset, TemplateSpec
from docgen.pipeline import DocumentJob, RunOptions, base_context, output_name
from docgen.settings import Settings
from docgen.sources import SUPPORTED_EXTENSIONS
from docgen.templates.catalog import load_package, scan
from docgen.templates.manifest import MANIFEST_NAME

log = logging.getLogger(__name__)

MODEL_SETTINGS = ("model_path", "threads", "n_ctx", "backend", "server_url", "server_model", "server_api_key",
                  "server_timeout", "jobs")


class MainWindow(QMainWindow):
    """docgen's window. ``generator_factory(settings) -> Generator`` replaces the model (tests, demos); it is
    called on the worker thread the first time a run needs the model."""

    template_changed = Signal(object)
    dataset_changed = Signal()
    draft_changed = Signal()

    def __init__(self, settings: Settings | None = None, *, generator_factory: GeneratorFactory | None = None,
                 settings_problem: str = "") -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.session = ModelSession(self.settings, generator_factory)
        self.drafts = DraftBook()
        self.template: TemplateSpec | None = None
        self.last_error = ""
        self._restoring = False
        self.setWindowTitle("docgen")
        self.setAccessibleName("docgen main window")
        self.setAcceptDrops(True)
        self.runs = Runs(self.session, self.statusBar(), self)
        self.data = DataController(self)
        self.review = ReviewController(self)
        self.export = ExportController(self)
        self.batch = BatchController(self)
        self._build_widgets()
        self._build_actions()
        self._build_status_bar()
        self._connect()
        self.references = install_references(self)  # References tab (#12, gui/references_pane.py)
        match_fields.install(self)  # Data tab: Match Fields (gui/match_fields.py)
        self._autosave_timer = QTimer(self)
        self._autosave_timer.setSingleShot(True)
        self._autosave_timer.setInterval(1500)
        self._autosave_timer.timeout.connect(self.save_work)
        self._restore_window_state()
        self._update_actions()
        if settings_problem:
            self.statusBar().showMessage(settings_problem)
        model = self.gallery.model
        first = next((r for r in range(model.rowCount()) if model.spec(r)), -1)
        if first >= 0:
            self.gallery.select_index(model.index(first, 0))

    # -- the parts other modules reach (kept stable) -----------------------------------------------------------
    @property
    def dataset(self) -> Dataset | None:
        """The loaded data."""
        return self.data.dataset

    @property
    def data_problem(self) -> str:
        """Why the data cannot be used with the template ('' when it can)."""
        return self.data.problem

    @property
    def draft(self) -> Draft | None:
        """The draft under review (the current template's)."""
        return self.drafts.current

    @property
    def thread(self):
        """The running worker thread, or None."""
        return self.runs.thread

    @property
    def busy(self) -> bool:
        """True while a run is active."""
        return self.runs.busy

    @property
    def last_cancel_latency(self) -> float | None:
        """Seconds the last cancel took, from the request to the thread's end."""
        return self.runs.last_cancel_latency

    def add_tab(self, widget: QWidget, title: str) -> int:
        """Add a tab (a GUI piece from another module); returns its index."""
        return self.tabs.addTab(widget, title)

    # -- building -------------------------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.gallery = GalleryPanel(TemplateListModel(scan()))
        for spec in recent.load_templates():
            self.gallery.model.add_spec(spec)
        self.data_panel, self.fields_form = self.data.panel, self.data.fields_form
        self.sections_view, self.job_label = self.review.sections_view, self.review.job_label
        self.preview, self.pdf_check = self.export.preview, self.export.pdf_check
        self.batch_panel = self.batch.panel
        self.review.footer.addWidget(self.pdf_check)
        self.review.footer.addStretch(1)
        self.data_splitter = self.data.splitter
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Steps")
        self.tabs.addTab(self.data.widget, "2. &Data and fields")
        self.tabs.addTab(self.review.widget, "3. &Review")
        self.tabs.addTab(self.export.widget, "4. Pre&view")
        self.tabs.addTab(self.batch.widget, "&Batch")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.gallery)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([280, 920])
        container = QWidget()
        outer = QVBoxLayout(container)
        outer.setContentsMargins(8, 8, 8, 4)
        self.model_banner = ModelBanner(self)  # first-run guidance / base-model warning (#13, gui/models_dialog.py)
        self.model_banner.open_models.connect(self.open_models)
        outer.addWidget(self.model_banner)
        outer.addWidget(self.splitter)
        self.setCentralWidget(container)

    def _action(self, text: str, shortcut: QKeySequence | str | None, tip: str, slot) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.open_data_action = self._action("Open data…", QKeySequence.StandardKey.Open,
                                             "Open a CSV, Excel or JSON data file", self.data.open_dialog)
        self.open_template_action = self._action("Open template…", "Ctrl+Shift+O",
                                                 "Open a template package from disk", self.open_template_dialog)
        self.generate_action = self._action("Generate", "Ctrl+G", "Let the model write the sections",
                                            self.start_generate)
        self.cancel_action = self._action("Cancel", "Esc", "Stop the model now", self.cancel_run)
        self.export_action = self._action("Export…", "Ctrl+E", "Save the document as a Word file",
                                          self.export_dialog)
        self.settings_action = self._action("Settings…", "Ctrl+,", "Model, threads, output folder",
                                            self.open_settings)
        self.quit_action = self._action("Quit", QKeySequence.StandardKey.Quit, "Close docgen", self.close)
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setAccessibleName("Main toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.open_template_action, self.open_data_action, None, self.generate_action,
                       self.cancel_action, self.export_action, None, self.settings_action):
            if action is None:
                toolbar.addSeparator()
            else:
                toolbar.addAction(action)
                toolbar.widgetForAction(action).setAccessibleName(action.text().rstrip("…"))
        self.addToolBar(toolbar)
        self.toolbar = toolbar
        #: menus by name ("file", "run", "tools"): other GUI pieces add their actions here
        self.menus: dict[str, QMenu] = {"file": self.menuBar().addMenu("&File")}
        for action in (self.open_template_action, self.open_data_action, self.export_action, self.settings_action,
                       self.quit_action):
            self.menus["file"].addAction(action)
        self.menus["run"] = self.menuBar().addMenu("R&un")  # Alt+R is the Review tab
        self.menus["run"].addAction(self.generate_action)
        self.menus["run"].addAction(self.cancel_action)
        self.menus["tools"] = self.menuBar().addMenu("&Tools")
        self.menus["tools"].menuAction().setVisible(False)  # a piece that adds an action makes it visible

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.model_label = QLabel()
        self.model_label.setAccessibleName("Model")
        self.speed_label, self.progress = self.runs.speed_label, self.runs.progress
        self.progress.setMaximumWidth(self.fontMetrics().horizontalAdvance("M") * 16)
        bar.addPermanentWidget(self.speed_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.model_label)
        self._describe_model()
        self.model_banner.update_for(self.settings)

    def _connect(self) -> None:
        self.gallery.template_chosen.connect(self.choose_template)
        self.gallery.open_package_requested.connect(self.open_template_dialog)
        self.data.dataset_changed.connect(self._dataset_changed)
        self.data.row_changed.connect(self._row_changed)
        self.data.fields_changed.connect(self._fields_changed)
        self.data.loading_changed.connect(lambda _busy: self._update_actions())
        self.runs.busy_changed.connect(lambda _busy: self._update_actions())
        self.runs.model_loading.connect(self._on_model_loading)
        self.runs.model_ready.connect(self._on_model_ready)
        QWidget.setTabOrder(self.gallery.view, self.gallery.open_button)
        QWidget.setTabOrder(self.gallery.open_button, self.tabs)
        QWidget.setTabOrder(self.tabs, self.data_panel.path_edit)
        QWidget.setTabOrder(self.data_panel.path_edit, self.data_panel.open_button)
        QWidget.setTabOrder(self.data_panel.open_button, self.data_panel.sample_button)
        QWidget.setTabOrder(self.data_panel.sample_button, self.data_panel.table)

    # -- state ------------------------------------------------------------------------------------------------
    def _describe_model(self) -> None:
        if self.session.loaded:
            self.model_label.setText(f"Model: {self.session.name}")
            self.model_label.setToolTip(f"Loaded in {self.session.load_seconds:.1f} s")
            return
        if self.settings.backend == "fake":
            self.model_label.setText("Model: scripted demo (fake backend)")
            return
        try:
            from docgen.llm.discovery import find_model

            path = find_model(self.settings.model_path or None)
        except ModelError as exc:
            self.model_label.setText("Model: not found")
            self.model_label.setToolTip(str(exc))
            return
        self.model_label.setText(f"Model: {path.name} (loads on first use)")
        self.model_label.setToolTip(str(path))

    def _on_model_ready(self, _name: str) -> None:
        self._describe_model()
        self.model_banner.show_warnings(getattr(self.session.get(), "warnings", ()))

    def _on_model_loading(self) -> None:
        self.statusBar().showMessage("Loading the model (first use in this session)…")
        self.model_label.setText("Model: loading…")

    def error(self, title: str, message: str) -> None:
        """Show ``message`` (the CLI's words) in a dialog and keep it for tests."""
        self.last_error = message
        log.info("%s: %s", title, message)
        dialogs.show_error(self, title, message)

    def generate_blocker(self) -> str:
        """Why Generate cannot run now ('' when it can): no template, no data, data being read, missing columns."""
        if self.template is None:
            return "choose a template first."
        if self.data.loading:
            return "the data file is still being read."
        if self.dataset is None:
            return self.data_problem or "open a data file first (Ctrl+O), or use the template's sample data."
        return self.data_problem

    def _update_actions(self) -> None:
        busy = self.busy or self.data.loading
        blocker = self.generate_blocker()
        self.generate_action.setEnabled(not busy and not blocker)
        self.generate_action.setToolTip("Let the model write the sections (Ctrl+G)" if not blocker
                                        else f"Generate is off: {blocker}")
        self.review.set_generate_reason(blocker if self.template is not None and not self.data.loading else "")
        draft = self.draft
        self.export_action.setEnabled(not busy and not blocker and draft is not None and draft.has_text())
        self.cancel_action.setEnabled(self.busy)
        for action in (self.open_data_action, self.open_template_action, self.settings_action):
            action.setEnabled(not busy)
        self.gallery.setEnabled(not busy)
        self.data_panel.open_button.setEnabled(not busy)
        self.data_panel.sample_button.setEnabled(not busy and bool(self.template and self.template.sample_data))
        self.data.sheet_combo.setEnabled(not busy)
        self.fields_form.setEnabled(not busy)
        self.sections_view.set_busy(self.busy)
        rows_mode = self.template is not None and self.template.mode == "rows"
        self.batch_panel.run_button.setEnabled(not busy and rows_mode and not blocker)

    def work_changed(self, *, save_now: bool = False) -> None:
        """The draft changed (called by the controllers): autosave soon (or now), refresh the actions."""
        if self._restoring:
            return
        self.draft_changed.emit()
        if save_now:
            self.save_work()
        else:
            self._autosave_timer.start()
        self._update_actions()

    def _fields_changed(self) -> None:
        if self.draft is not None and not self._restoring:
            self.draft.set_values(self.fields_form.values())
            self.work_changed()

    def _row_changed(self) -> None:
        self.review.update_job_label()
        self._record_data()

    def _record_data(self) -> None:
        if self.draft is not None and not self._restoring:
            ds = self.dataset
            self.draft.set_data(str(ds.path) if ds else self.draft.data_path, ds.sheet if ds else None,
                                self.data.current_row())
            self.work_changed()

    def _dataset_changed(self) -> None:
        self.review.update_job_label()
        self.batch.follow()
        if self.dataset is None:
            self.tabs.setCurrentWidget(self.data.widget)
        self._record_data()
        self._update_actions()
        self.dataset_changed.emit()

    # -- template ---------------------------------------------------------------------------------------------
    def choose_template(self, spec: TemplateSpec) -> None:
        """Make ``spec`` the current template. Its draft (kept while the app runs) comes back with its text,
        fields and record; a template used for the first time starts an empty draft with the loaded data."""
        if self.template is not None and spec.id == self.template.id and spec.root == self.template.root:
            return
        self.save_work()
        self.template = spec
        known = DraftBook.key(spec.id, str(spec.root)) in self.drafts.drafts
        draft = self.drafts.open(spec)
        self.data.show_template(spec)
        self.review.show_template(spec)
        self.export.last_export = Path(draft.exported_path) if draft.exported_path else None
        self._restoring = True
        try:
            if known:
                self.fields_form.set_values(draft.values)
        finally:
            self._restoring = False
        self.review.show_draft()
        self.batch.follow()
        self.review.update_job_label()
        self._update_actions()
        self.template_changed.emit(spec)
        row = draft.row
        if known and draft.data_path and (self.dataset is None or str(self.dataset.path) != draft.data_path) \
                and Path(draft.data_path).exists():
            self.data.load(Path(draft.data_path), draft.sheet, then=lambda: self.data.select_row(row))
        elif known:
            self.data.select_row(row)
        else:
            draft.set_values(self.fields_form.values())
            self._record_data()

    def open_template_dialog(self) -> None:
        """Ask for a template package (folder's docgen.toml or .docgen) and open it."""
        path = dialogs.open_file(self, "Open a template package", paths.user_templates_dir(),
                                 dialogs.TEMPLATE_FILTER)
        if path:
            self.open_template(path)

    def open_template(self, path: Path) -> bool:
        """Load a template package from disk, add it to the gallery (remembered for next time) and choose it."""
        try:
            spec = load_package(Path(path))
        except DocgenError as exc:
            self.error("Cannot open the template", str(exc))
            return False
        recent.remember_template(Path(path).parent if Path(path).name == MANIFEST_NAME else Path(path))
        self.gallery.select_index(self.gallery.model.add_spec(spec))
        self.choose_template(spec)
        return True

    # -- data (the data controller does the work) ----------------------------------------------------------------
    def load_data(self, path: Path, sheet: str | None = None) -> None:
        """Read ``path`` on the worker; the Data tab shows the result or the problem."""
        self.data.load(Path(path), sheet)

    def use_sample(self) -> None:
        """Load the template's sample data."""
        self.data.use_sample()

    def current_row(self) -> int | None:
        """The record the single document is for (rows templates), else None."""
        return self.data.current_row()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            self.open_path(Path(url.toLocalFile()))
        event.acceptProposedAction()

    def open_path(self, path: Path) -> None:
        """A dropped or command-line path: a template package, or a data file (the reader explains formats it
        does not read)."""
        if path.is_dir() or path.suffix == ".docgen" or path.name == MANIFEST_NAME:
            self.open_template(path)
        else:
            self.load_data(path)

    # -- runs (the review, export and batch controllers do the work) ----------------------------------------------
    def run_options(self) -> RunOptions:
        """Sampling defaults from the settings."""
        return RunOptions(seed=self.settings.seed, temperature=self.settings.temperature,
                          references=self.references.run_files())

    def ready(self, action: str) -> bool:
        """True when ``action`` can run now; otherwise the reason is shown (in a dialog, the CLI's words)."""
        if self.busy or self.data.loading:
            return False
        if self.template is None:
            self.error(f"Cannot {action}", "Choose a template first.")
            return False
        try:
            preflight(self.template)  # the same check as the command line, before any model time is spent
        except DocgenError as exc:
            self.error(f"Cannot {action}", str(exc))
            return False
        if self.dataset is None or self.data_problem:
            self.tabs.setCurrentWidget(self.data.widget)
            self.error(f"Cannot {action}", self.data_problem or "Open a data file first (Ctrl+O), or use the "
                       "template's sample data.")
            return False
        problems = self.fields_form.validate()
        if problems:
            self.tabs.setCurrentWidget(self.data.widget)
            self.error(f"Cannot {action}", "Please fix the fields:\n" + "\n".join(problems))
            return False
        return True

    def job(self, **kw: Any) -> DocumentJob:
        """The pipeline job for the current template, data, fields and record."""
        assert self.template is not None and self.dataset is not None
        return DocumentJob(self.template, self.dataset, self.fields_form.values(), row_index=self.current_row(),
                           **kw)

    def start_generate(self):
        """Generate every section that is not locked (Ctrl+G)."""
        return self.review.start_generate()

    def start_regenerate(self, section_id: str, new_seed: bool = True):
        """Write one section again."""
        return self.review.start_regenerate(section_id, new_seed)

    def export_dialog(self) -> None:
        """Ctrl+E: the export gate, Save As, then write."""
        self.export.export_dialog()

    def start_export(self, path: Path, **kw: Any):
        """Write the reviewed document to ``path`` (the gate asks first about the draft's problems)."""
        return self.export.start_export(path, **kw)

    def start_batch(self):
        """Run every row of a rows template into the batch output folder."""
        return self.batch.start_batch()

    def cancel_run(self) -> None:
        """Stop the running task (Esc, Cancel buttons)."""
        self.runs.cancel()

    def suggested_name(self) -> str:
        """The manifest's output name for the current document (sanitized), or '<template id>.docx'."""
        assert self.template is not None
        try:
            job = self.job()
            return safe_filename(output_name(job, base_context(job)), default=self.template.id)
        except DocgenError:
            return f"{self.template.id}.docx"

    def show_section(self, section_id: str) -> None:
        """Bring section ``section_id``'s panel into view and focus its text."""
        panel = self.sections_view.panels.get(section_id)
        self.tabs.setCurrentWidget(self.review.widget)
        if panel is not None:
            self.sections_view.ensureWidgetVisible(panel)
            panel.editor.setFocus()

    # -- other --------------------------------------------------------------------------------------------------
    def open_settings(self) -> None:
        """Show the Settings dialog; a changed model setting reloads the model on next use."""
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() and dialog.result_settings is not None:
            self.apply_settings(dialog.result_settings)

    def open_models(self) -> None:
        """The Models dialog (first-run banner); a model chosen there is used from the next run on."""
        dialog = ModelsDialog(self.settings, self)
        dialog.exec()
        if dialog.result_settings is not None:
            self.apply_settings(dialog.result_settings)

    def apply_settings(self, new: Settings) -> None:
        """Use ``new`` settings from now on."""
        old = self.settings
        self.settings = new
        if any(getattr(old, k) != getattr(new, k) for k in MODEL_SETTINGS):
            self.session.reset(new)
        else:
            self.session.settings = new
        self._describe_model()
        self.model_banner.update_for(new)
        if old.output_dir != new.output_dir:
            self.batch.folders.clear()
            self.batch.follow()
        self.statusBar().showMessage("Settings saved")

    def open_exported(self) -> None:
        """Open the exported document in the desktop's default app (Word, LibreOffice)."""
        if self.export.last_export:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.export.last_export)))

    def open_export_folder(self) -> None:
        """Open the folder of the exported document."""
        if self.export.last_export:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.export.last_export.parent)))

    # -- autosave -----------------------------------------------------------------------------------------------
    def save_work(self) -> None:
        """Autosave every draft now (on a timer after edits, after every run, on template switch and close)."""
        self._autosave_timer.stop()
        if self.template is None or self._restoring:
            return
        autosave.save(self.drafts.to_dict())

    def offer_restore(self) -> bool:
        """If unsaved work from an earlier session exists, ask and restore it. Returns True if restored."""
        state = autosave.load()
        saved = [d for d in DraftBook.saved_drafts(state) if autosave.has_text(d) and not autosave.exported(d)]
        if not saved:
            return False
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(state.get("saved_at", 0))))
        names = ", ".join(f"'{d.get('template_id')}'" for d in saved)
        if not dialogs.ask(self, "Restore your work?", f"docgen found unsaved work from {when} (template "
                           f"{names}). Restore it?"):
            autosave.clear()
            return False
        self.restore_work(state)
        return True

    def _spec_for(self, saved: dict[str, Any]) -> TemplateSpec | None:
        template_id, root = saved.get("template_id"), saved.get("template_root")
        row = self.gallery.model.row_of(str(template_id)) if template_id else -1
        if row >= 0 and (not root or str(self.gallery.model.spec(row).root) == root):
            return self.gallery.model.spec(row)
        if root and Path(root).exists():
            try:
                spec = load_package(Path(root))
            except DocgenError as exc:
                log.warning("Cannot restore the draft of %s: %s", root, exc)
                return None
            self.gallery.model.add_spec(spec)
            return spec
        return self.gallery.model.spec(row) if row >= 0 else None

    def restore_work(self, state: dict[str, Any]) -> None:
        """Put autosaved drafts back (every template's), and make the one that was current current again."""
        current = None
        for saved in DraftBook.saved_drafts(state):
            spec = self._spec_for(saved)
            if spec is None:
                continue
            key = DraftBook.key(spec.id, str(spec.root))
            self.drafts.drafts[key] = Draft.from_dict(saved, spec)
            if current is None or saved.get("template_id") == state.get("current"):
                current = spec
        if current is None:
            return
        self.template = None  # choose it afresh: its draft is now in the book
        self.gallery.select(current.id)
        if self.template is None or self.template.root != current.root:
            self.choose_template(current)
        self.review.show_draft(note="Restored from your unsaved work")
        if self.draft is not None and self.draft.has_text():
            self.tabs.setCurrentWidget(self.review.widget)
        self.statusBar().showMessage("Restored your unsaved work")

    # -- window ---------------------------------------------------------------------------------------------------
    def _restore_window_state(self) -> None:
        state = window_state.load()
        geometry = window_state.decode(state.get("geometry", "")) if state.get("geometry") else None
        if geometry is None or geometry.isEmpty() or not self.restoreGeometry(geometry):
            self.resize(1200, 800)
        if state.get("state"):
            self.restoreState(window_state.decode(state["state"]))
        for key, splitter in (("splitter", self.splitter), ("data_splitter", self.data_splitter)):
            if state.get(key):
                splitter.restoreState(window_state.decode(state[key]))

    def save_window_state(self) -> None:
        """Remember geometry, toolbar and splitter positions."""
        window_state.save({
            "geometry": window_state.encode(self.saveGeometry()),
            "state": window_state.encode(self.saveState()),
            "splitter": window_state.encode(self.splitter.saveState()),
            "data_splitter": window_state.encode(self.data_splitter.saveState()),
        })

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.busy:
            kind = "batch" if self.runs.kind == "batch" else "document"
            if not dialogs.ask(self, "Stop and close?", f"The model is still writing the {kind}. Stop it and "
                               "close docgen? Your edited sections are kept for next time."):
                event.ignore()
                return
            self.runs.stop_and_wait()
        else:
            unexported = self.drafts.unexported()
            if unexported:
                names = ", ".join(f"'{d.template_id}'" for d in unexported)
                if not dialogs.ask(self, "Quit without exporting?", f"The document for {names} has text that was "
                                   "never exported. Quit anyway? It is kept and offered back next time."):
                    event.ignore()
                    return
        preview = self.export.preview.thread
        if preview is not None and preview.isRunning():
            self.statusBar().showMessage("Finishing the page preview…")
            preview.wait()  # LibreOffice is laying out the pages: seconds, bounded by its timeout
        self.save_work()
        self.save_window_state()
        self.session.reset()
        event.accept()
