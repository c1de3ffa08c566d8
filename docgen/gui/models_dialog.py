"""The Models dialog (Settings -> Models…): the models on this PC with what each needs and how it did in its last
``docgen eval``, one click to switch; add a file, remove one; and the curated catalogue with verified downloads.

A thin shell over :mod:`docgen.models` (library, catalogue, download) and :mod:`docgen.models.evals`: the same
facts and the same words as ``docgen models list|catalogue|download``. Downloads run on a QThread
(:class:`DownloadThread`) with progress (speed, time left) and Cancel; when the machine policy sets
``allow_downloads = false`` the Download button is disabled and says why.

:func:`embedded_model_notice` is the first-run guidance: the text the main window shows while the embedded
demo model is in use, with a button that opens this dialog.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QThread, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QFrame, QHBoxLayout, QHeaderView,
                               QLabel, QProgressBar, QSizePolicy, QPushButton, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
                               QWidget)

from docgen import paths
from docgen.cancel import CancelToken
from docgen.errors import Cancelled, DocgenError
from docgen.gui import dialogs
from docgen.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_NOTICE = ("You are using the small built-in model (SmolLM2-135M). It is good for trying docgen and "
                   "checking templates, but it invents figures and facts: read every section. For documents you "
                   "send, choose a larger model.")
LIBRARY_COLUMNS = ("", "Model file", "From", "Parameters", "Quantization", "Size", "Chat template", "Licence",
                   "RAM needed", "Speed", "Last evaluation")
CATALOGUE_COLUMNS = ("Model", "Parameters", "Size", "RAM needed", "Licence", "Good for", "")


def embedded_model_notice(settings: Settings) -> str | None:
    """:data:`EMBEDDED_NOTICE` when docgen would use the embedded model with these settings, else None."""
    if settings.backend != "llamacpp":
        return None
    from docgen.llm.discovery import embedded_model
    from docgen.models.library import in_use

    current, embedded = in_use(settings), embedded_model()
    if current is None or embedded is None:
        return None
    try:
        return EMBEDDED_NOTICE if current.resolve() == embedded.resolve() else None
    except OSError:
        return None


def _last_eval_text(metrics: dict) -> str:
    parts = []
    if metrics.get("sec_per_doc") is not None:
        parts.append(f"{metrics['sec_per_doc']:.1f} s/doc")
    if metrics.get("problems_per_doc") is not None:
        parts.append(f"{metrics['problems_per_doc']:.1f} problems/doc")
    if metrics.get("format_ok") is not None:
        parts.append(f"format {metrics['format_ok']:.0%}")
    if metrics.get("choice_acc") is not None:
        parts.append(f"choices {metrics['choice_acc']:.0%}")
    return ", ".join(parts)


def _details_html(e) -> str:
    """What the Download tab says about the selected catalogue entry, with links to its sources."""
    from html import escape

    return (f"<b>{escape(e.name)}</b> by {escape(e.publisher)} (GGUF file by {escape(e.quantized_by)}, "
            f"{escape(e.file)}): {escape(e.good_for)} Context up to {e.context_length:,} tokens. "
            f"Licence: <a href='{escape(e.licence_url)}'>{escape(e.licence)}</a>. Sources: "
            f"<a href='{escape(e.model_card)}'>model card</a>, <a href='{escape(e.file_page)}'>file page</a>.")


class DownloadThread(QThread):
    """Downloads one catalogue entry. Signals: ``progress(done, total, text)``, ``succeeded(str path)``,
    ``failed(str message)``, ``cancelled(str message)``."""

    progress = Signal(int, int, str)
    succeeded = Signal(str)
    failed = Signal(str)
    cancelled = Signal(str)

    def __init__(self, entry, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.entry, self.settings, self.token = entry, settings, CancelToken()
        self.setObjectName("docgen-download")

    def cancel(self) -> None:
        """Stop after the current chunk (the partial file is kept for resuming)."""
        self.token.cancel()

    def run(self) -> None:  # noqa: D102 - worker thread
        from docgen.models.download import download_model

        def on_progress(p) -> None:
            total = p.total or 0
            scale = 1_000_000  # Qt progress bars hold ints: count in MB
            self.progress.emit(p.done // scale, total // scale, p.describe())

        try:
            path = download_model(self.entry.url, self.settings, file_name=self.entry.file,
                                  sha256=self.entry.sha256, size=self.entry.size_bytes, on_progress=on_progress,
                                  cancel=self.token)
        except Cancelled as exc:
            self.cancelled.emit(str(exc))
        except DocgenError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug must show a message, not kill the app
            log.exception("Download failed")
            self.failed.emit(f"Unexpected error ({type(exc).__name__}): {exc}")
        else:
            self.succeeded.emit(str(path))


class ModelsDialog(QDialog):
    """The models on this PC and the catalogue. After ``exec()``, :attr:`chosen` is the model file the user
    chose with *Use this model* ("" for the embedded default), or None when they did not switch, and
    :attr:`result_settings` the saved settings."""

    def __init__(self, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setAccessibleName("Models")
        self.settings = settings
        self.chosen: str | None = None
        self.result_settings: Settings | None = None
        self.download: DownloadThread | None = None
        self.entries: list = []
        self.catalogue: list = []

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Models message")
        self.tabs = QTabWidget()
        self.tabs.addTab(self._library_tab(), "On this PC")
        self.tabs.addTab(self._catalogue_tab(), "Download")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setMinimumSize(self.fontMetrics().horizontalAdvance("M") * 80, self.fontMetrics().height() * 28)
        self.refresh()

    # ------------------------------------------------------------------------------------------- library
    def _library_tab(self) -> QWidget:
        box = QWidget()
        self.table = QTableWidget(0, len(LIBRARY_COLUMNS))
        self.table.setHorizontalHeaderLabels(LIBRARY_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName("Models on this PC")
        self.table.itemDoubleClicked.connect(lambda _item: self.use_selected())
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.use_button = QPushButton("&Use this model")
        self.use_button.setAccessibleName("Use this model")
        self.add_button = QPushButton("&Add a file…")
        self.add_button.setAccessibleName("Add a model file")
        self.remove_button = QPushButton("&Remove")
        self.remove_button.setAccessibleName("Remove the model")
        self.use_button.clicked.connect(self.use_selected)
        self.add_button.clicked.connect(self._add_file)
        self.remove_button.clicked.connect(self._remove_selected)
        row = QHBoxLayout()
        for b in (self.use_button, self.add_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        layout = QVBoxLayout(box)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        hint = QLabel("Speed and the last evaluation come from 'docgen eval' on this PC; run it to compare models "
                      "on your own templates.")
        hint.setWordWrap(True)
        hint.setStyleSheet("QLabel { color: gray; }")
        layout.addWidget(hint)
        return box

    def refresh(self) -> None:
        """Re-read the models folders, the catalogue and the stored evaluations."""
        from docgen.models import estimate, evals
        from docgen.models.library import list_models

        self.entries = list_models(self.settings)
        measured = evals.measurements()
        bandwidth = estimate.memory_bandwidth()
        self.table.setRowCount(len(self.entries))
        for r, e in enumerate(self.entries):
            info = e.info
            if info is None:
                cells = ["", e.name, e.source, "", "", "", "", "", "", "", f"Unusable: {e.problem}"]
            else:
                speed = estimate.speed_estimate(info, measured, bandwidth)
                last = evals.last_evaluation(e.name, info.size)
                cells = ["✔" if e.in_use else "", e.name, e.source, estimate.human_parameters(info.parameters),
                         info.quantization, estimate.human_bytes(info.size),
                         "yes" if info.has_chat_template else "NO (base model)", info.license or "?",
                         estimate.human_bytes(estimate.ram_bytes(info, self.settings.n_ctx)),
                         (f"{speed.tokens_per_second:.1f} tok/s" + ("" if speed.how == "measured" else
                                                                      " (estimate)")) if speed else "not measured",
                         _last_eval_text(dict(last.metrics)) if last else "not evaluated"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 1 and info is not None:
                    item.setToolTip(f"{info.name}\n{e.path}")
                if c == 9 and info is not None and speed is not None:
                    item.setToolTip(speed.describe())
                if c == 6 and info is not None and not info.has_chat_template:
                    item.setForeground(Qt.GlobalColor.darkRed)
                    item.setToolTip("This model has no chat template; it looks like a base model, docgen needs an "
                                    "instruct model.")
                self.table.setItem(r, c, item)
            if e.in_use:
                self.table.selectRow(r)
        self._fill_catalogue()
        self._update_buttons()

    def selected(self):
        """The library entry of the selected row, or None."""
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        entry = self.selected()
        locked = "model_path" in self.settings.locked
        self.use_button.setEnabled(entry is not None and entry.info is not None and not entry.in_use and not locked)
        self.remove_button.setEnabled(entry is not None and entry.removable)
        if locked:
            self.use_button.setToolTip(f"The model is chosen by your IT department's policy ({paths.policy_file()}).")

    def use_selected(self) -> None:
        """Make the selected model the one docgen uses (saved to settings.toml)."""
        from docgen.models.library import use_model

        entry = self.selected()
        if entry is None or entry.in_use:
            return
        try:
            entry, new = use_model(self.settings, str(entry.path))
        except DocgenError as exc:
            self.say(str(exc), error=True)
            return
        self.settings = self.result_settings = new
        self.chosen = new.model_path
        from docgen.models.gguf_info import base_model_warning

        warning = base_model_warning(entry.info) if entry.info is not None else None
        self.say(f"docgen now uses {entry.name}." + (f" Warning: {warning}" if warning else ""), error=bool(warning))
        self.refresh()

    def _add_file(self) -> None:
        path = dialogs.open_file(self, "Add a GGUF model", Path.home(), "GGUF models (*.gguf);;All files (*)")
        if path:
            self.add_file(path)

    def add_file(self, path: Path) -> None:
        """Copy ``path`` into the user's models folder and list it."""
        from docgen.models.library import add_model

        from docgen.models.gguf_info import base_model_warning, read_gguf
        from docgen.models.library import in_use

        try:
            target = add_model(path)
            warning = base_model_warning(read_gguf(target))
        except DocgenError as exc:
            self.say(str(exc), error=True)
            return
        current = in_use(self.settings)
        using = current is not None and current.name == target.name
        text = f"Added {target.name}." + (" docgen uses it now (it is the first model in your models folder)."
                                          if using else " Select it and press Use this model.")
        self.say(text + (f" Warning: {warning}" if warning else ""), error=bool(warning))
        self.refresh()

    def _remove_selected(self) -> None:
        entry = self.selected()
        if entry is not None and dialogs.ask(self, "Remove model", f"Delete {entry.name} from your models folder?"):
            self.remove(entry.name)

    def remove(self, name: str) -> None:
        """Delete the model ``name`` from the user's models folder."""
        from docgen.models.library import remove_model

        try:
            removed, self.settings = remove_model(self.settings, name)
        except DocgenError as exc:
            self.say(str(exc), error=True)
            return
        self.result_settings = self.settings
        self.say(f"Removed {removed.name}.")
        self.refresh()

    # ------------------------------------------------------------------------------------------- catalogue
    def _catalogue_tab(self) -> QWidget:
        box = QWidget()
        self.cat_table = QTableWidget(0, len(CATALOGUE_COLUMNS))
        self.cat_table.setHorizontalHeaderLabels(CATALOGUE_COLUMNS)
        self.cat_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.cat_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.cat_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.cat_table.setWordWrap(False)
        self.cat_table.verticalHeader().hide()
        header = self.cat_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.cat_table.setAccessibleName("Models to download")
        self.cat_table.itemSelectionChanged.connect(self._update_download)
        self.download_button = QPushButton("&Download")
        self.download_button.setAccessibleName("Download the model")
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.setAccessibleName("Cancel the download")
        self.cancel_button.hide()
        self.download_progress = QProgressBar()
        self.download_progress.setAccessibleName("Download progress")
        self.download_progress.hide()
        self.download_button.clicked.connect(self.start_download)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.cat_details = QLabel()
        self.cat_details.setWordWrap(True)
        self.cat_details.setOpenExternalLinks(True)
        self.cat_details.setTextFormat(Qt.TextFormat.RichText)
        self.cat_details.setAccessibleName("About the selected model")
        self.download_note = QLabel()
        self.download_note.setWordWrap(True)
        self.download_note.setStyleSheet("QLabel { color: gray; }")
        row = QHBoxLayout()
        row.addWidget(self.download_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.download_progress, 3)
        row.addStretch(1)
        layout = QVBoxLayout(box)
        layout.addWidget(self.cat_table, 1)
        layout.addWidget(self.cat_details)
        layout.addLayout(row)
        layout.addWidget(self.download_note)
        return box

    def _fill_catalogue(self) -> None:
        from docgen.models.catalogue import load_catalogue
        from docgen.models.estimate import human_bytes, total_memory

        self.catalogue = list(load_catalogue())
        installed = {e.name for e in self.entries}
        memory = total_memory()
        self.cat_table.setRowCount(len(self.catalogue))
        for r, e in enumerate(self.catalogue):
            ram = e.ram_bytes(self.settings.n_ctx)
            state = "installed" if e.file in installed else (
                "needs more RAM" if memory and ram > 0.75 * memory else "")
            cells = [e.name, e.parameters, human_bytes(e.size_bytes), human_bytes(ram),
                     e.licence, e.good_for, state]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"Sources: {e.file_page}\n{e.model_card}\nLicence: {e.licence_url}")
                self.cat_table.setItem(r, c, item)
        policy = "" if self.settings.allow_downloads else (
            f"Downloads are turned off by your IT department's policy ({paths.policy_file()}). Ask IT for a model.")
        self.download_note.setText(policy or "Claims are the publishers' (hover a row for the sources). RAM is "
                                   "docgen's estimate at your context size. Downloads are verified by SHA-256.")
        self._update_download()

    def _selected_catalogue(self):
        rows = self.cat_table.selectionModel().selectedRows()
        return self.catalogue[rows[0].row()] if rows else None

    def _update_download(self) -> None:
        entry = self._selected_catalogue()
        self.cat_details.setText(_details_html(entry) if entry is not None else "Select a model to see what it is "
                                 "good for and where these facts come from.")
        installed = entry is not None and any(e.name == entry.file for e in self.entries)
        busy = self.download is not None
        self.download_button.setEnabled(self.settings.allow_downloads and entry is not None and not installed
                                        and not busy)
        if not self.settings.allow_downloads:
            self.download_button.setToolTip("Turned off by your IT department's policy.")

    def start_download(self, entry=None) -> DownloadThread | None:
        """Download the selected catalogue model (or ``entry``) on a worker thread."""
        entry = entry or self._selected_catalogue()
        if entry is None or self.download is not None:
            return None
        thread = DownloadThread(entry, self.settings, self)
        thread.progress.connect(self._on_progress)
        thread.succeeded.connect(self._on_downloaded)
        thread.failed.connect(lambda m: self.say(m, error=True))
        thread.cancelled.connect(lambda m: self.say(m))
        thread.finished.connect(self._on_download_finished)
        self.download = thread
        self.download_progress.setRange(0, max(entry.size_bytes // 1_000_000, 1))
        self.download_progress.setValue(0)
        self.download_progress.setFormat("starting…")
        self.download_progress.show()
        self.cancel_button.show()
        self.say(f"Downloading {entry.name} ({entry.file})…")
        self._update_download()
        thread.start()
        return thread

    def cancel_download(self) -> None:
        """Stop the download (what was fetched is kept; the next download resumes)."""
        if self.download is not None:
            self.download.cancel()

    def _on_progress(self, done: int, total: int, text: str) -> None:
        if total:
            self.download_progress.setRange(0, total)
        self.download_progress.setValue(done)
        self.download_progress.setFormat(text)

    def _on_downloaded(self, path: str) -> None:
        self.say(f"Downloaded and verified {Path(path).name}. Select it on 'On this PC' and press Use this model.")
        self.refresh()

    def _on_download_finished(self) -> None:
        self.download = None
        self.cancel_button.hide()
        self.download_progress.hide()
        self._update_download()

    # ------------------------------------------------------------------------------------------- misc
    def say(self, text: str, *, error: bool = False) -> None:
        """Show ``text`` under the tabs (red for a problem)."""
        self.message.setText(text)
        self.message.setStyleSheet("QLabel { color: #a00000; }" if error else "")

    def reject(self) -> None:  # noqa: D102 - closing cancels a running download first
        if self.download is not None:
            self.download.cancel()
            self.download.wait(5000)
        super().reject()


class ModelBanner(QFrame):
    """A strip above the window's content: the first-run guidance while the embedded model is in use
    (:func:`embedded_model_notice`), or the load-time warnings of the loaded model (a base model without a chat
    template), with a button that opens the Models dialog (signal ``open_models``) and one that hides it."""

    open_models = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("model_banner")
        self.setAccessibleName("Model notice")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)  # never takes the window
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setAccessibleName("Model notice text")
        self.button = QPushButton("Choose a better model…")
        self.button.setAccessibleName("Open the Models dialog")
        self.dismiss = QPushButton("Hide")
        self.dismiss.setAccessibleName("Hide the model notice")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.text, 1)
        row.addWidget(self.button)
        row.addWidget(self.dismiss)
        self.button.clicked.connect(self.open_models.emit)
        self.dismiss.clicked.connect(self.hide)
        self.kind = ""
        self.hide()

    def update_for(self, settings: Settings) -> None:
        """Show the embedded-model guidance when it applies to ``settings``, else hide (unless a warning shows)."""
        notice = embedded_model_notice(settings)
        if notice:
            self._show(notice, "notice")
        elif self.kind == "notice" or not self.kind:
            self.kind = ""
            self.hide()

    def show_warnings(self, warnings) -> None:
        """Show a loaded model's warnings (``LlamaCppGenerator.warnings``); nothing when there are none."""
        warnings = tuple(warnings or ())
        if warnings:
            self._show("Warning: " + " ".join(warnings), "warning")

    def _show(self, text: str, kind: str) -> None:
        self.kind = kind
        self.text.setText(text)
        color = "#fff4ce" if kind == "notice" else "#fde7e9"
        self.setStyleSheet(f"QFrame#model_banner {{ background: {color}; }}")
        self.show()


__all__ = ["DownloadThread", "EMBEDDED_NOTICE", "ModelBanner", "ModelsDialog", "embedded_model_notice"]
