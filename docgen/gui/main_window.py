"""The main window: 1. template (gallery, left) -> 2. data and fields -> 3. review sections -> 4. preview, plus
a Batch tab for mail-merge ("rows") templates.

Everything the model does runs on a :class:`~docgen.gui.workers.RunThread` through the same pipeline functions
as batch mode (:func:`docgen.pipeline.generate`, :func:`docgen.batch.run_batch`). Review uses the pipeline's
``fixed_sections`` (edited / locked text kept as-is), ``only_sections`` (regenerate one section) and ``seeds``;
export runs ``generate`` again with every section fixed and an output path.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (QApplication, QCheckBox, QGroupBox, QLabel, QMainWindow, QProgressBar,
                               QScrollArea, QSplitter, QTabWidget, QToolBar, QVBoxLayout, QWidget)

from docgen import paths
from docgen.batch import REPORT_NAME, run_batch, safe_filename
from docgen.checks import preflight
from docgen.errors import DocgenError, ModelError
from docgen.gui import autosave, dialogs, window_state
from docgen.gui.batch_tab import BatchPanel
from docgen.gui.data_preview import DataPanel
from docgen.gui.fields_form import FieldsForm
from docgen.gui.gallery import GalleryPanel, TemplateListModel
from docgen.gui.preview import PreviewPanel
from docgen.gui.sections import SectionsView
from docgen.gui.models_dialog import ModelBanner, ModelsDialog
from docgen.gui.settings_dialog import SettingsDialog
from docgen.gui.workers import GeneratorFactory, ModelSession, RunThread
from docgen.model import Dataset, DocumentResult, ProgressEvent, TemplateSpec
from docgen.pipeline import DocumentJob, RunOptions, base_context, generate, output_name
from docgen.render import convert_to_pdf, pdf_available
from docgen.settings import Settings
from docgen.sources import SUPPORTED_EXTENSIONS, load_dataset, require_columns
from docgen.templates.catalog import load_package, scan
from docgen.templates.manifest import MANIFEST_NAME

log = logging.getLogger(__name__)

TAB_DATA, TAB_REVIEW, TAB_PREVIEW, TAB_BATCH = range(4)
MODEL_SETTINGS = ("model_path", "threads", "n_ctx", "backend")


class MainWindow(QMainWindow):
    """docgen's window. ``generator_factory(settings) -> Generator`` replaces the model (tests, demos); it is
    called on the worker thread the first time a run needs the model."""

    def __init__(self, settings: Settings | None = None, *, generator_factory: GeneratorFactory | None = None,
                 settings_problem: str = "") -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.session = ModelSession(self.settings, generator_factory)
        self.template: TemplateSpec | None = None
        self.dataset: Dataset | None = None
        self.data_problem = ""
        self.thread: RunThread | None = None
        self.run_kind = ""
        self.last_export: Path | None = None
        self.last_error = ""
        self.last_cancel_latency: float | None = None
        self.exported = False
        self._cancel_requested_at: float | None = None
        self._close_after_run = False
        self._backup: dict[str, str] = {}
        self._restoring = False
        self._closing = False

        self.setWindowTitle("docgen")
        self.setAccessibleName("docgen main window")
        self.setAcceptDrops(True)
        self._build_widgets()
        self._build_actions()
        self._build_status_bar()
        self._connect()
        self._autosave_timer = QTimer(self)
        self._autosave_timer.setSingleShot(True)
        self._autosave_timer.setInterval(1500)
        self._autosave_timer.timeout.connect(self.save_work)
        self._restore_window_state()
        self._update_actions()
        if settings_problem:
            self.statusBar().showMessage(settings_problem)
        if self.gallery.model.rowCount():
            first = next((r for r in range(self.gallery.model.rowCount()) if self.gallery.model.spec(r)), -1)
            if first >= 0:
                self.gallery.select_index(self.gallery.model.index(first, 0))

    # ------------------------------------------------------------------------------------------- building
    def _build_widgets(self) -> None:
        self.gallery = GalleryPanel(TemplateListModel(scan()))
        self.data_panel = DataPanel()
        self.fields_form = FieldsForm()
        fields_box = QGroupBox("Fields")
        fields_box.setAccessibleName("Fields")
        fields_scroll = QScrollArea()
        fields_scroll.setWidgetResizable(True)
        fields_scroll.setWidget(self.fields_form)
        fields_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        box_layout = QVBoxLayout(fields_box)
        box_layout.addWidget(fields_scroll)
        self.row_note = QLabel()
        self.row_note.setWordWrap(True)
        self.row_note.hide()
        box_layout.addWidget(self.row_note)

        self.data_splitter = QSplitter(Qt.Orientation.Vertical)
        self.data_splitter.setChildrenCollapsible(False)
        self.data_splitter.addWidget(self.data_panel)
        self.data_splitter.addWidget(fields_box)
        self.data_splitter.setStretchFactor(0, 3)
        self.data_splitter.setStretchFactor(1, 2)
        data_tab = QWidget()
        data_layout = QVBoxLayout(data_tab)
        data_layout.setContentsMargins(6, 6, 6, 6)
        data_layout.addWidget(self.data_splitter)

        self.job_label = QLabel()
        self.job_label.setWordWrap(True)
        self.job_label.setAccessibleName("What is being written")
        self.sections_view = SectionsView()
        review = QWidget()
        review_layout = QVBoxLayout(review)
        review_layout.setContentsMargins(6, 6, 6, 6)
        review_layout.addWidget(self.job_label)
        review_layout.addWidget(self.sections_view, 1)
        self.pdf_check = QCheckBox("Also save as &PDF")
        self.pdf_check.setAccessibleName("Also save as PDF when exporting")
        reason = pdf_available()
        self.pdf_check.setEnabled(reason is None)
        self.pdf_check.setToolTip(reason or "Export also writes a PDF next to the Word file (through LibreOffice "
                                  "or Microsoft Word).")
        self.pdf_error: str | None = None
        review_layout.addWidget(self.pdf_check)

        self.preview = PreviewPanel()
        self.preview.layout().setContentsMargins(6, 6, 6, 6)
        self.batch_panel = BatchPanel()
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Steps")
        self.tabs.addTab(data_tab, "2. &Data and fields")
        self.tabs.addTab(review, "3. &Review")
        self.tabs.addTab(self.preview, "4. Pre&view")
        self.tabs.addTab(self.batch_panel, "&Batch")

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
                                             "Open a CSV, Excel or JSON data file", self.open_data_dialog)
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
                button = toolbar.widgetForAction(action)
                button.setAccessibleName(action.text().rstrip("…"))
        self.addToolBar(toolbar)
        self.toolbar = toolbar
        menu = self.menuBar().addMenu("&File")
        for action in (self.open_template_action, self.open_data_action, self.export_action, self.settings_action,
                       self.quit_action):
            menu.addAction(action)
        run_menu = self.menuBar().addMenu("&Run")
        run_menu.addAction(self.generate_action)
        run_menu.addAction(self.cancel_action)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.model_label = QLabel()
        self.model_label.setAccessibleName("Model")
        self.speed_label = QLabel()
        self.speed_label.setAccessibleName("Speed")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Progress")
        self.progress.setMaximumWidth(self.fontMetrics().horizontalAdvance("M") * 16)
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress.hide()
        bar.addPermanentWidget(self.speed_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.model_label)
        self._describe_model()
        self.model_banner.update_for(self.settings)

    def _connect(self) -> None:
        self.gallery.template_chosen.connect(self.choose_template)
        self.gallery.open_package_requested.connect(self.open_template_dialog)
        self.data_panel.open_requested.connect(self.open_data_dialog)
        self.data_panel.use_sample_requested.connect(self.use_sample)
        self.data_panel.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.fields_form.changed.connect(self._work_changed)
        self.sections_view.regenerate_requested.connect(self.start_regenerate)
        self.sections_view.changed.connect(self._work_changed)
        self.batch_panel.run_requested.connect(self.start_batch)
        self.batch_panel.cancel_requested.connect(self.cancel_run)
        self.batch_panel.browse_requested.connect(self._browse_batch_folder)
        self.preview.open_button.clicked.connect(self.open_exported)
        self.preview.folder_button.clicked.connect(self.open_export_folder)
        QWidget.setTabOrder(self.gallery.view, self.gallery.open_button)
        QWidget.setTabOrder(self.gallery.open_button, self.tabs)
        QWidget.setTabOrder(self.tabs, self.data_panel.path_edit)
        QWidget.setTabOrder(self.data_panel.path_edit, self.data_panel.open_button)
        QWidget.setTabOrder(self.data_panel.open_button, self.data_panel.sample_button)
        QWidget.setTabOrder(self.data_panel.sample_button, self.data_panel.table)

    # ------------------------------------------------------------------------------------------- helpers
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

    def error(self, title: str, message: str) -> None:
        """Show ``message`` (the CLI's words) in a dialog and keep it for tests."""
        self.last_error = message
        log.info("%s: %s", title, message)
        dialogs.show_error(self, title, message)

    @property
    def busy(self) -> bool:
        """True while a run is active."""
        return self.thread is not None

    def _update_actions(self) -> None:
        busy = self.busy
        has_inputs = self.template is not None and self.dataset is not None
        self.generate_action.setEnabled(not busy and has_inputs)
        self.cancel_action.setEnabled(busy)
        self.export_action.setEnabled(not busy and has_inputs and self.sections_view.all_written())
        self.open_data_action.setEnabled(not busy)
        self.open_template_action.setEnabled(not busy)
        self.settings_action.setEnabled(not busy)
        self.gallery.setEnabled(not busy)
        self.data_panel.open_button.setEnabled(not busy)
        self.data_panel.sample_button.setEnabled(not busy and bool(self.template and self.template.sample_data))
        self.fields_form.setEnabled(not busy)
        self.sections_view.set_busy(busy)
        rows_mode = self.template is not None and self.template.mode == "rows"
        self.batch_panel.run_button.setEnabled(not busy and rows_mode and self.dataset is not None)

    def _work_changed(self) -> None:
        if self._restoring:
            return
        self.exported = False
        self._autosave_timer.start()
        self._update_actions()

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_job_label()

    def current_row(self) -> int | None:
        """The data row the single document is for (rows templates), else None."""
        if self.template is None or self.template.mode != "rows" or self.dataset is None:
            return None
        return min(self.data_panel.selected_row(), len(self.dataset.rows) - 1)

    def _update_job_label(self) -> None:
        if self.template is None:
            self.job_label.setText("")
            return
        text = f"<b>{self.template.name}</b>"
        if self.dataset is not None:
            text += f" · {self.dataset.path.name} ({len(self.dataset.rows):,} rows)"
            row = self.current_row()
            if row is not None:
                text += f" · document for row {self.dataset.row_numbers[row]} (select another row in the Data tab)"
        self.job_label.setText(text)

    # ------------------------------------------------------------------------------------------- template
    def choose_template(self, spec: TemplateSpec) -> None:
        """Make ``spec`` the current template: rebuild the form and the section panels."""
        if self.template is not None and spec.id == self.template.id and spec.root == self.template.root:
            return
        self.template = spec
        self.fields_form.set_template(spec)
        self.sections_view.set_sections(spec.sections)
        self.last_export = None
        rows = spec.mode == "rows"
        self.row_note.setText("This template makes one document per data row. Generate writes the document for "
                              "the row selected above (to review it); the Batch tab writes all rows.")
        self.row_note.setVisible(rows)
        self.batch_panel.set_available(rows, (
            "Batch writes one document per data row into the output folder, with a report."
            if rows else f"'{spec.name}' makes one document from the whole table, so there is no batch: use "
                         "Generate and Export."))
        if not self.batch_panel.out_edit.text() or not rows:
            self.batch_panel.out_edit.setText(str(self.settings.effective_output_dir() / spec.id))
        if self.dataset is not None:
            self._check_columns()
        self._update_job_label()
        self._update_actions()

    def open_template_dialog(self) -> None:
        """Ask for a template package (folder's docgen.toml or .docgen) and open it."""
        path = dialogs.open_file(self, "Open a template package", paths.user_templates_dir(),
                                 dialogs.TEMPLATE_FILTER)
        if path:
            self.open_template(path)

    def open_template(self, path: Path) -> bool:
        """Load a template package from disk, add it to the gallery and choose it. Errors go to a dialog."""
        try:
            spec = load_package(Path(path))
        except DocgenError as exc:
            self.error("Cannot open the template", str(exc))
            return False
        index = self.gallery.model.add_spec(spec)
        self.gallery.select_index(index)
        self.choose_template(spec)
        return True

    # ------------------------------------------------------------------------------------------- data
    def open_data_dialog(self) -> None:
        """Ask for a data file and load it."""
        start = self.dataset.path.parent if self.dataset else Path.home()
        path = dialogs.open_file(self, "Open data", start, dialogs.DATA_FILTER)
        if path:
            self.load_data(path)

    def use_sample(self) -> None:
        """Load the template's sample data."""
        if self.template and self.template.sample_data:
            self.load_data(self.template.sample_data)

    def load_data(self, path: Path) -> bool:
        """Read ``path`` into the preview. Problems are shown inline in the Data tab, never as a crash."""
        path = Path(path)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            dataset = load_dataset(path)
        except DocgenError as exc:
            self.dataset = None
            self.data_problem = str(exc)
            self.data_panel.set_failed_path(path, self.data_problem)
            self.tabs.setCurrentIndex(TAB_DATA)
            self._update_actions()
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self.dataset = dataset
        self.data_panel.show_dataset(dataset)
        self._check_columns()
        self.tabs.setCurrentIndex(TAB_DATA)
        self._update_job_label()
        self._update_actions()
        self._work_changed()
        return True

    def _check_columns(self) -> None:
        self.data_problem = ""
        if self.template is not None and self.dataset is not None:
            try:
                require_columns(self.dataset, self.template.required_columns, template_id=self.template.id)
            except DocgenError as exc:
                self.data_problem = str(exc)
        self.data_panel.set_problem(self.data_problem)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            self.open_path(Path(url.toLocalFile()))
        event.acceptProposedAction()

    def open_path(self, path: Path) -> None:
        """A dropped or command-line path: a template package, or a data file."""
        if path.is_dir() or path.suffix == ".docgen" or path.name == MANIFEST_NAME:
            self.open_template(path)
        elif path.suffix.lower() in SUPPORTED_EXTENSIONS or not path.exists():
            self.load_data(path)
        else:
            self.load_data(path)  # load_dataset explains which formats it reads

    # ------------------------------------------------------------------------------------------- runs
    def _options(self) -> RunOptions:
        return RunOptions(seed=self.settings.seed, temperature=self.settings.temperature)

    def _ready(self, action: str) -> bool:
        if self.busy:
            return False
        if self.template is None:
            self.error(f"Cannot {action}", "Choose a template first.")
            return False
        try:
            preflight(self.template)  # the same check as the command line, before any model time is spent
        except DocgenError as exc:
            self.error(f"Cannot {action}", str(exc))
            return False
        if self.dataset is None:
            message = self.data_problem or "Open a data file first (Ctrl+O), or use the template's sample data."
            self.error(f"Cannot {action}", message)
            return False
        if self.data_problem:
            self.tabs.setCurrentIndex(TAB_DATA)
            self.error(f"Cannot {action}", self.data_problem)
            return False
        problems = self.fields_form.validate()
        if problems:
            self.tabs.setCurrentIndex(TAB_DATA)
            self.error(f"Cannot {action}", "Please fix the fields:\n" + "\n".join(problems))
            return False
        return True

    def _job(self, **kw: Any) -> DocumentJob:
        assert self.template is not None and self.dataset is not None
        return DocumentJob(self.template, self.dataset, self.fields_form.values(), row_index=self.current_row(), **kw)

    def _start(self, kind: str, task, status: str) -> RunThread:
        thread = RunThread(self.session, task, kind=kind, parent=self)
        thread.progress.connect(self._on_progress)
        thread.model_loading.connect(self._on_model_loading)
        thread.model_ready.connect(self._on_model_ready)
        thread.succeeded.connect(self._on_succeeded)
        thread.failed.connect(self._on_failed)
        thread.cancelled.connect(self._on_cancelled)
        thread.finished.connect(self._on_finished)
        self.thread = thread
        self.run_kind = kind
        self._cancel_requested_at = None
        self.speed_label.setText("")
        self.progress.setRange(0, 0)
        self.progress.setFormat("")
        self.progress.show()
        self.statusBar().showMessage(status)
        self._update_actions()
        thread.start()
        return thread

    def start_generate(self) -> RunThread | None:
        """Generate every section that is not locked (Ctrl+G)."""
        if not self._ready("generate"):
            return None
        job = self._job(fixed_sections=self.sections_view.locked_texts())
        todo = [p for p in self.sections_view.panels.values() if p.spec.per_row or not p.locked]
        if not todo:
            self.error("Nothing to generate", "Every section is locked. Unlock a section to let the model rewrite "
                       "it, or Export the document.")
            return None
        self._backup = {p.spec.id: p.text() for p in todo}
        options = self._options()
        self.tabs.setCurrentIndex(TAB_REVIEW)
        return self._start("generate", lambda gen, on_event, cancel: generate(
            job, gen, None, options=options, on_event=on_event, cancel=cancel), "Writing the sections…")

    def start_regenerate(self, section_id: str, new_seed: bool = True) -> RunThread | None:
        """Write one section again (its panel's Regenerate button); the other sections are not touched."""
        panel = self.sections_view.panels.get(section_id)
        if panel is None or panel.locked or not self._ready("regenerate"):
            return None
        seed = panel.next_seed(new_seed, self.settings.seed)
        job = self._job(only_sections=[section_id], seeds={section_id: seed})
        # Per-row sections run with any document generation; the memo answers them without the model.
        self._backup = {section_id: panel.text()}
        options = self._options()
        return self._start("regenerate", lambda gen, on_event, cancel: generate(
            job, gen, None, options=options, on_event=on_event, cancel=cancel),
            f"Rewriting '{panel.spec.title}' (seed {seed})…")

    def suggested_name(self) -> str:
        """The manifest's output name for the current document (sanitized), or '<template id>.docx'."""
        assert self.template is not None
        try:
            job = self._job()
            return safe_filename(output_name(job, base_context(job)), default=self.template.id)
        except DocgenError:
            return f"{self.template.id}.docx"

    def export_dialog(self) -> None:
        """Save As… then write the reviewed document (Ctrl+E)."""
        if not self._ready("export"):
            return
        if not self.sections_view.all_written():
            self.error("Cannot export", "Some sections are still empty. Generate them (Ctrl+G) or type their text.")
            return
        folder = self.last_export.parent if self.last_export else self.settings.effective_output_dir()
        path = dialogs.save_file(self, "Export the document", folder / self.suggested_name())
        if path:
            self.start_export(path)

    def start_export(self, path: Path) -> RunThread | None:
        """Write the document with the reviewed text of every section to ``path``."""
        if not self._ready("export"):
            return None
        job = self._job(fixed_sections=self.sections_view.texts())
        options = self._options()
        want_pdf = self.pdf_check.isEnabled() and self.pdf_check.isChecked()
        self.pdf_error = None

        def task(gen, on_event, cancel):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            result = generate(job, gen, Path(path), options=options, on_event=on_event, cancel=cancel)
            if want_pdf and result.path:
                try:
                    convert_to_pdf(result.path)
                except DocgenError as exc:  # the .docx is written; report the PDF problem only
                    self.pdf_error = str(exc)
            return result

        return self._start("export", task, f"Writing {Path(path).name}…")

    def start_batch(self) -> RunThread | None:
        """Run every row of a rows template into the batch output folder."""
        if not self._ready("run the batch"):
            return None
        assert self.template is not None and self.dataset is not None
        if self.template.mode != "rows":
            self.error("Cannot run the batch", f"'{self.template.name}' makes one document from the whole table; "
                       "use Generate and Export.")
            return None
        text = self.batch_panel.out_edit.text().strip()
        out_dir = Path(text).expanduser() if text else self.settings.effective_output_dir() / self.template.id
        template, dataset, values, options = self.template, self.dataset, self.fields_form.values(), self._options()
        self.batch_panel.started(dataset, template)
        self.tabs.setCurrentIndex(TAB_BATCH)
        return self._start("batch", lambda gen, on_event, cancel: run_batch(
            template, dataset, gen, out_dir, values=values, options=options, on_event=on_event, cancel=cancel),
            f"Writing {len(dataset.rows)} documents into {out_dir}…")

    def cancel_run(self) -> None:
        """Stop the running task (Esc, Cancel buttons). Returns at once; the thread ends within ~0.5 s."""
        if self.thread is None:
            return
        if self._cancel_requested_at is None:
            self._cancel_requested_at = time.perf_counter()
        self.thread.cancel()
        self.statusBar().showMessage("Cancelling…")

    # ------------------------------------------------------------------------------------------- run events
    def _on_model_loading(self) -> None:
        self.statusBar().showMessage("Loading the model (first use in this session)…")
        self.model_label.setText("Model: loading…")

    def _on_model_ready(self, _name: str) -> None:
        self._describe_model()
        self.model_banner.show_warnings(getattr(self.session.get(), "warnings", ()))

    def _on_progress(self, event: ProgressEvent) -> None:
        if self.run_kind == "batch":
            self.batch_panel.apply(event)
            if event.kind == "run_started":
                self.progress.setRange(0, max(event.documents, 1))
                self.progress.setValue(0)
                self.progress.setFormat("%v / %m documents")
            elif event.kind in ("document_done", "document_failed"):
                self.progress.setValue(self.batch_panel.progress.value())
            elif event.kind == "token" and event.tokens_per_second:
                self.speed_label.setText(f"{event.tokens_per_second:.1f} tokens/s")
            return
        panel = self.sections_view.panels.get(event.section_id or "")
        if event.kind == "section_started" and panel is not None:
            panel.begin()
            self.progress.setRange(0, max(event.sections, 1))
            self.progress.setValue(event.section)
            self.progress.setFormat("%v / %m sections")
            self.statusBar().showMessage(f"Writing '{panel.spec.title}'…")
        elif event.kind == "token" and panel is not None:
            panel.append(event.text)
            if panel.spec.per_row:
                self.progress.setRange(0, max(event.sections, 1))
                self.progress.setValue(event.section + 1)
                self.progress.setFormat("%v / %m rows")
            elif event.tokens_per_second:
                self.speed_label.setText(f"{event.tokens_per_second:.1f} tokens/s")
        elif event.kind == "section_done" and panel is not None:
            panel.set_text(event.text)
            panel.status.setText(f"Written ({event.tokens} tokens)")
            self.progress.setValue(event.section + 1)

    def _on_succeeded(self, result: Any) -> None:
        kind = self.run_kind
        if kind in ("generate", "regenerate") and isinstance(result, DocumentResult):
            for section in result.sections:
                panel = self.sections_view.panels.get(section.id)
                if panel is not None and not section.locked:
                    panel.finish(section)
                elif panel is not None:  # the user's own text: show what the grounding check says about it
                    panel.set_warnings(section.warnings)
            tokens = sum(s.tokens for s in result.sections)
            self.statusBar().showMessage(f"Written in {result.seconds:.1f} s ({tokens} tokens). Review the "
                                         "sections, then Export (Ctrl+E).")
            self.save_work()
        elif kind == "export" and isinstance(result, DocumentResult) and result.path:
            self.last_export = result.path
            self.exported = True
            pdf = " and PDF" if self.pdf_check.isChecked() and self.pdf_check.isEnabled() else ""
            self.statusBar().showMessage(f"Saved {result.path}{pdf if not self.pdf_error else ''}")
            if self.pdf_error:
                self.error("PDF not saved", f"The Word document was saved, but not the PDF: {self.pdf_error}")
            try:
                self.preview.show_document(result.path)
            except Exception as exc:  # noqa: BLE001 - the document is written; a preview problem is minor
                self.preview.title.setText(f"Saved {result.path}, but the preview failed: {exc}")
            self.tabs.setCurrentIndex(TAB_PREVIEW)
            autosave.clear()
        elif kind == "batch":
            report = result
            self.batch_panel.finished(report, report.out_dir / REPORT_NAME)
            self.statusBar().showMessage(
                f"Batch {'cancelled' if report.cancelled else 'done'}: "
                f"{sum(1 for d in report.documents if d.ok)} written, {len(report.failed)} failed.")

    def _restore_backup(self, reason: str) -> None:
        for sid, text in self._backup.items():
            panel = self.sections_view.panels.get(sid)
            if panel is None:
                continue
            if panel.status.text().startswith("Writing") or reason:
                if text.strip() and not panel.spec.per_row and panel.status.text().startswith("Writing"):
                    panel.set_text(text)  # never lose what was there before the stopped run
                panel.stopped(reason)

    def _on_failed(self, message: str) -> None:
        self._restore_backup("Stopped by an error")
        if self.run_kind == "batch":
            self.batch_panel.finished(None, None, message)
        self.statusBar().showMessage("Stopped by an error")
        self.error({"export": "Cannot export", "batch": "Batch failed"}.get(self.run_kind, "Generation failed"),
                   message)

    def _on_cancelled(self) -> None:
        self._restore_backup("Cancelled")
        if self.run_kind == "batch":
            self.batch_panel.finished(None, None, "Cancelled.")
        self.statusBar().showMessage("Cancelled")

    def _on_finished(self) -> None:
        thread = self.thread
        if self._cancel_requested_at is not None:
            self.last_cancel_latency = time.perf_counter() - self._cancel_requested_at
            log.info("Cancel took %.3f s", self.last_cancel_latency)
        self.thread = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0 if self._cancel_requested_at else 1)
        self.progress.setFormat("")
        self.progress.hide()
        self._update_actions()
        if thread is not None:
            thread.deleteLater()
        if self._close_after_run and not self._closing:
            self.close()

    # ------------------------------------------------------------------------------------------- other
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
        self.statusBar().showMessage("Settings saved")

    def _browse_batch_folder(self) -> None:
        path = dialogs.open_folder(self, "Batch output folder", Path(self.batch_panel.out_edit.text() or "."))
        if path:
            self.batch_panel.out_edit.setText(str(path))

    def open_exported(self) -> None:
        """Open the exported document in the desktop's default app (Word, LibreOffice)."""
        if self.last_export:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_export)))

    def open_export_folder(self) -> None:
        """Open the folder of the exported document."""
        if self.last_export:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_export.parent)))

    # ------------------------------------------------------------------------------------------- autosave
    def work_state(self) -> dict[str, Any]:
        """What autosave keeps: template, data file, selected row, field values, section texts and states."""
        return {
            "template_id": self.template.id if self.template else None,
            "template_root": str(self.template.root) if self.template else None,
            "data_path": str(self.dataset.path) if self.dataset else None,
            "row": self.current_row(),
            "values": self.fields_form.values(),
            "sections": {sid: p.to_state() for sid, p in self.sections_view.panels.items() if not p.spec.per_row},
            "exported": self.exported,
        }

    def save_work(self) -> None:
        """Autosave now (called on a timer after edits and after every generation)."""
        self._autosave_timer.stop()
        if self.template is None:
            return
        autosave.save(self.work_state())

    def offer_restore(self) -> bool:
        """If unsaved work from an earlier session exists, ask and restore it. Returns True if restored."""
        state = autosave.load()
        if not autosave.has_work(state) or state.get("exported"):
            return False
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(state.get("saved_at", 0))))
        if not dialogs.ask(self, "Restore your work?",
                           f"docgen found unsaved work from {when} (template '{state.get('template_id')}'). "
                           "Restore it?"):
            autosave.clear()
            return False
        self.restore_work(state)
        return True

    def restore_work(self, state: dict[str, Any]) -> None:
        """Put autosaved ``state`` back into the window."""
        self._restoring = True
        try:
            template_id = state.get("template_id")
            if template_id and not self.gallery.select(template_id):
                root = state.get("template_root")
                if root and Path(root).exists():
                    self.open_template(Path(root))
            data_path = state.get("data_path")
            if data_path and Path(data_path).exists():
                self.load_data(Path(data_path))
            row = state.get("row")
            if isinstance(row, int) and self.dataset is not None and 0 <= row < len(self.dataset.rows):
                self.data_panel.table.selectRow(row)
            self.fields_form.set_values(state.get("values") or {})
            for sid, section in (state.get("sections") or {}).items():
                panel = self.sections_view.panels.get(sid)
                if panel is not None and isinstance(section, dict):
                    panel.from_state(section)
        finally:
            self._restoring = False
        self._update_actions()
        if any(p.text() for p in self.sections_view.panels.values()):
            self.tabs.setCurrentIndex(TAB_REVIEW)
        self.statusBar().showMessage("Restored your unsaved work")

    # ------------------------------------------------------------------------------------------- window
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
        if self.thread is not None:
            if not self._close_after_run:
                kind = "batch" if self.run_kind == "batch" else "document"
                if not dialogs.ask(self, "Stop and close?",
                                   f"The model is still writing the {kind}. Stop it and close docgen? "
                                   "Your edited sections are kept for next time."):
                    event.ignore()
                    return
            self._close_after_run = True
            self._closing = True
            self.cancel_run()
            self.thread.wait()  # the CancelToken reaches llama.cpp's abort callback: this takes < 0.5 s
            QApplication.sendPostedEvents()
            QApplication.processEvents()
            if self.thread is not None:  # finished() not delivered yet
                self._on_finished_quietly()
            self._closing = False
        self.save_work()
        self.save_window_state()
        self.session.reset()
        event.accept()

    def _on_finished_quietly(self) -> None:
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.deleteLater()
