"""The References tab: the reference documents the current template's sections are written from, the files the
user adds for this session's runs, and a search over them (the GUI side of ``docgen refs``, :mod:`docgen.refs`).

- The list shows every file in scope (:func:`docgen.refs.reference_files`): where it comes from (the template,
  IT's site folder, your references folder, or added here), its passages and its index state.
- **Add files…** (or dropping files or folders on the tab) adds reference files for this session: the next
  Generate, Export or batch run reads them, exactly like ``--refs PATH`` on the command line
  (:meth:`MainWindow.run_options <docgen.gui.main_window.MainWindow.run_options>` asks :meth:`ReferencesPane.run_files`).
  **Remove** takes an added file out again (files of the template, the site or your folder stay: they are
  not this tab's to delete). **Rebuild index** reads every file in scope again.
- **Search** shows the best passages for a question with their file, heading and location, as a section
  would get them (the same ranking as ``docgen refs search``).

Index work (reading files into the index, rebuilding, searching) runs on a worker thread (:class:`IndexThread`)
with a progress bar counting files, so a folder of PDFs never freezes the window. One job runs at a time; a
request made meanwhile waits for it.

Keyboard: Alt+E opens the tab, Alt+A adds, Alt+M removes (or Delete in the list), Alt+X rebuilds, Alt+S goes to
the search box (Enter searches).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QThread, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QProgressBar, QPushButton, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from docgen.errors import DocgenError
from docgen.model import ReferencesSpec, TemplateSpec

log = logging.getLogger(__name__)

#: The file-picker filter: the formats :mod:`docgen.refs.readers` reads.
REFERENCE_FILTER = "Reference documents (*.docx *.pdf *.md *.txt *.html *.htm *.csv *.xlsx);;All files (*)"
#: Passages shown for a search (``docgen refs search``'s default).
SEARCH_HITS = 5
COLUMNS = ("File", "From", "Passages", "State")


class IndexThread(QThread):
    """Runs one index job ``job(progress)`` off the GUI thread; ``progress(done, total)`` may be called from it.

    Signals (queued to the GUI thread): ``progress(int, int)``, ``succeeded(object)`` with the job's result,
    ``failed(str)`` with the message (``str(DocgenError)``, the CLI's words). Exactly one of succeeded/failed."""

    progress = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, job: Callable[[Callable[[int, int], None]], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.setObjectName("docgen-references")

    def run(self) -> None:  # noqa: D102 - worker thread
        try:
            result = self.job(self.progress.emit)
        except DocgenError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - a reader or index bug must show a message, not kill the app
            log.exception("Reference index job failed")
            self.failed.emit(f"Unexpected error ({type(exc).__name__}): {exc}")
        else:
            self.succeeded.emit(result)


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the list: ``path``, ``origin`` ("template", "site", "yours" or "added"), ``passages`` (None
    when not indexed yet) and ``state`` as shown."""

    path: Path
    origin: str
    passages: int | None
    state: str


def _origin(path: Path, spec: ReferencesSpec | None, added: Sequence[Path]) -> str:
    from docgen.refs import site_references_dir, user_references_dir

    def under(folder: Path | None) -> bool:
        try:
            return folder is not None and path.is_relative_to(folder.resolve())
        except OSError:
            return False
    if any(path == a for a in added) or any(a.is_dir() and under(a) for a in added):
        return "added"
    if spec is not None and under(spec.folder):
        return "template"
    if under(site_references_dir()):
        return "site"
    if under(user_references_dir()):
        return "yours"
    return "added"


class ReferencesPane(QObject):
    """The References tab of ``window`` (a :class:`~docgen.gui.main_window.MainWindow`); see the module
    docstring. ``index`` is the reference index (default: the user cache's, as the CLI and batch runs use).

    Signals: ``files_changed()`` after the list was refreshed (files added, removed or read), ``searched(list)``
    with the :class:`docgen.refs.Hit` list of the last search."""

    files_changed = Signal()
    searched = Signal(list)

    def __init__(self, window: Any, index: Any = None) -> None:
        super().__init__(window)
        from docgen.refs import Index

        self.window = window
        self.index = index if index is not None else Index()
        self.added: list[Path] = []
        self.rows: list[Row] = []
        self.hits: list[Any] = []
        self.thread: IndexThread | None = None
        self._pending: list[tuple[str, Callable, Callable | None]] = []
        self._failed: dict[Path, str] = {}
        self._build()
        window.template_changed.connect(lambda _spec: self.refresh(read=True))
        window.installEventFilter(self)  # a close waits for the index job (a QThread must not outlive it)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Close and watched is self.window:
            self._pending.clear()
            self.wait()
        elif (watched is self.table and event.type() == QEvent.Type.KeyPress
              and event.matches(QKeySequence.StandardKey.Delete)):
            self.remove_selected()
            return True
        return False

    # -- what runs use -------------------------------------------------------------------------------------------
    def run_files(self) -> tuple[Path, ...]:
        """The files added on this tab, for :attr:`docgen.model.RunOptions.references` (as ``--refs``)."""
        return tuple(self.added)

    def files(self) -> list[Path]:
        """Every reference file in scope for the current template (and the added ones), in reading order."""
        from docgen.refs import reference_files

        template: TemplateSpec | None = self.window.template
        if template is None:
            return [p for a in self.added for p in self._expand(a)]
        return reference_files(template, self.added)

    @property
    def busy(self) -> bool:
        """True while an index job runs."""
        return self.thread is not None

    # -- widgets -------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.widget = DropArea(self.add_paths)
        self.widget.setAccessibleName("References")
        layout = QVBoxLayout(self.widget)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Reference files")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setAccessibleName("Reference file columns")
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.installEventFilter(self)  # Delete removes the selected added files
        buttons = QHBoxLayout()
        self.add_button = QPushButton("&Add files…")
        self.add_button.setToolTip("Add reference documents for this session's runs (like --refs); you can also "
                                   "drop files or folders here")
        self.add_button.clicked.connect(self.add_dialog)
        self.remove_button = QPushButton("Re&move")
        self.remove_button.setToolTip("Take the selected added files out of this session's runs (Delete)")
        self.remove_button.clicked.connect(self.remove_selected)
        self.rebuild_button = QPushButton("Rebuild inde&x")
        self.rebuild_button.setToolTip("Read every reference file in the list again")
        self.rebuild_button.clicked.connect(self.rebuild)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Reading references")
        self.progress.setFormat("%v of %m files")
        self.progress.setVisible(False)
        for w, name in ((self.add_button, "Add files"), (self.remove_button, "Remove"),
                        (self.rebuild_button, "Rebuild index")):
            w.setAccessibleName(name)
            buttons.addWidget(w)
        buttons.addWidget(self.progress, 1)
        buttons.addStretch(0)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.table)
        top_layout.addLayout(buttons)
        self.status = QLabel()
        self.status.setAccessibleName("References status")
        self.status.setWordWrap(True)
        top_layout.addWidget(self.status)

        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        label = QLabel("&Search:")
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText("A question a section might ask, e.g. How long is the warranty?")
        self.search_box.setAccessibleName("Search the references")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.returnPressed.connect(self.search)
        label.setBuddy(self.search_box)
        row.addWidget(label)
        row.addWidget(self.search_box, 1)
        bottom_layout.addLayout(row)
        self.results = QListWidget()
        self.results.setAccessibleName("Best passages")
        self.results.setWordWrap(True)
        self.results.setAlternatingRowColors(True)
        self.results.setSpacing(3)
        bottom_layout.addWidget(self.results, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 2)  # a template has a few files; the passages need the room
        splitter.setStretchFactor(1, 3)
        layout.addWidget(splitter, 1)
        self._update_buttons()

    def _update_buttons(self) -> None:
        selected = self._selected_rows()
        self.remove_button.setEnabled(not self.busy and bool(selected) and all(r.origin == "added" for r in selected))
        self.add_button.setEnabled(not self.busy)
        self.rebuild_button.setEnabled(not self.busy and bool(self.rows))

    def _selected_rows(self) -> list[Row]:
        picked = {i.row() for i in self.table.selectionModel().selectedRows()}
        return [self.rows[i] for i in sorted(picked) if i < len(self.rows)]

    # -- actions -------------------------------------------------------------------------------------------------
    def add_dialog(self) -> None:
        """Ask for a reference file (the file picker) and add it."""
        from docgen.gui import dialogs

        path = dialogs.open_file(self.widget, "Add a reference document", None, REFERENCE_FILTER)
        if path is not None:
            self.add_paths([path])

    def add_paths(self, paths: Sequence[Path]) -> list[Path]:
        """Add files or folders (their supported files) for the next runs and read them into the index on the
        worker. A path docgen cannot read as a reference is named in the status line, not added. Returns the
        paths added."""
        from docgen.refs import supported

        fresh, refused = [], []
        for raw in paths:
            p = Path(raw).resolve()
            if p in self.added or p in fresh:
                continue
            if (p.is_file() and supported(p)) or (p.is_dir() and self._expand(p)):
                fresh.append(p)
            else:
                refused.append(p.name)
        self.added.extend(fresh)
        if refused:
            self.status.setText(f"Not added: {', '.join(refused)} (references can be .docx, .pdf, .md, .txt, "
                                ".html, .csv or .xlsx files, or folders holding them).")
        elif fresh:
            self.status.setText(f"Added {len(fresh)} reference file(s): the next run reads "
                                f"{'it' if len(fresh) == 1 else 'them'}.")
        if fresh:
            self.refresh(read=True)
        return fresh

    def remove_selected(self) -> None:
        """Take the selected added files out of the next runs (other files are not this tab's to remove)."""
        chosen = [r for r in self._selected_rows() if r.origin == "added"]
        if not chosen or self.busy:
            return
        gone = {r.path for r in chosen}
        self.added = [a for a in self.added if a not in gone]
        self.status.setText(f"Removed {len(chosen)} file(s) from this session's references.")
        self.refresh(read=False)

    def rebuild(self) -> None:
        """Read every file in the list again, on the worker."""
        self.refresh(read=True, force=True)

    def search(self) -> None:
        """Search the files in scope for the search box's text (on the worker); the hits fill the results list."""
        query = self.search_box.text().strip()
        if not query:
            self.results.clear()
            return
        files = self.files()
        index = self.index

        def job(progress):
            report = index.update(files)
            usable = [f for f in files if Path(f) not in report.failed]
            return index.search(query, usable, limit=SEARCH_HITS)
        self._start("search", job, self._show_hits)

    # -- the list ------------------------------------------------------------------------------------------------
    def refresh(self, *, read: bool = False, force: bool = False) -> None:
        """Show the files in scope; with ``read``, bring the index up to date for them first (on the worker,
        one file at a time for the progress bar; ``force`` reads every file again)."""
        files = self.files()
        if not read or not files:
            self._show(files)
            return
        index = self.index

        def job(progress):
            failed: dict[Path, str] = {}
            for done, f in enumerate(files):
                progress(done, len(files))
                failed.update(index.update([f], force=force).failed)
            progress(len(files), len(files))
            return failed
        self._show(files, reading=True)
        self._start("read", job, lambda failed: self._read_done(files, failed, force))

    def _read_done(self, files: list[Path], failed: dict[Path, str], force: bool) -> None:
        self._failed = {**{k: v for k, v in self._failed.items() if k not in set(files)}, **failed}
        if force:
            self.status.setText(f"Read {len(files)} file(s) again." + (f" {len(failed)} could not be read."
                                                                       if failed else ""))
        self._show(files)

    def _show(self, files: list[Path], *, reading: bool = False) -> None:
        from docgen.refs import spec_for

        template: TemplateSpec | None = self.window.template
        spec = spec_for(template, self.added) if template is not None else None
        infos = {i.path: i for i in self.index.files(files)} if files else {}
        rows = []
        for f in files:
            f = Path(f)
            info = infos.get(f)
            if f in self._failed:
                state = f"unreadable: {self._failed[f]}"
            elif reading and info is None:
                state = "reading…"
            elif info is None:
                state = "not indexed yet"
            elif info.error:
                state = f"unreadable: {info.error}"
            else:
                state = "indexed"
            rows.append(Row(f, _origin(f, spec, self.added), info.passages if info and not info.error else None,
                            state))
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            cells = (r.path.name, r.origin, "" if r.passages is None else str(r.passages), r.state)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(str(r.path) if c == 0 else text)
                if c == 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, c, item)
        self._describe(template, spec)
        self._update_buttons()
        self.files_changed.emit()

    def _describe(self, template: TemplateSpec | None, spec: ReferencesSpec | None) -> None:
        if template is None:
            text = "Choose a template to see the reference documents its sections are written from."
        elif spec is None:
            text = (f"{template.name} uses no reference documents. Add files (or drop them here) to write its "
                    "sections from your own policies, FAQs or price lists, with citations.")
        else:
            which = ", ".join(spec.sections) if spec.sections else "every text section"
            text = (f"The sections of {template.name} ({which}) are written from these files. Files you add here "
                    "are used by the next run; drop files or folders to add them.")
        self.intro.setText(text)

    def _show_hits(self, hits: list[Any]) -> None:
        self.hits = hits
        self.results.clear()
        if not hits:
            self.results.addItem("No passage matches." if self.rows else "No reference files in scope.")
        for rank, h in enumerate(hits, 1):
            label = ", ".join(x for x in (h.file.name, h.passage.section, h.passage.location) if x)
            text = " ".join(h.passage.text.split())
            item = QListWidgetItem(f"{rank}. {label}  (score {h.score:.2f})\n{text[:400]}"
                                   f"{'…' if len(text) > 400 else ''}")
            item.setToolTip(str(h.file))
            self.results.addItem(item)
        self.searched.emit(hits)

    # -- the worker ----------------------------------------------------------------------------------------------
    def _start(self, kind: str, job: Callable, done: Callable | None) -> None:
        if self.thread is not None:
            self._pending = [p for p in self._pending if p[0] != kind] + [(kind, job, done)]
            return
        thread = IndexThread(job, self)
        self.thread = thread
        self.progress.setRange(0, 0)
        self.progress.setVisible(kind != "search")
        thread.progress.connect(self._progress)
        thread.succeeded.connect(lambda result: done(result) if done else None)
        thread.failed.connect(self.status.setText)
        thread.finished.connect(self._finished)
        self._update_buttons()
        thread.start()

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _finished(self) -> None:
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.deleteLater()
        self.progress.setVisible(False)
        self._update_buttons()
        if self._pending:
            kind, job, done = self._pending.pop(0)
            self._start(kind, job, done)

    def wait(self, timeout_ms: int = 30_000) -> None:
        """Block until the running index job (if any) has finished (window close, tests)."""
        if self.thread is not None:
            self.thread.wait(timeout_ms)

    @staticmethod
    def _expand(path: Path) -> list[Path]:
        from docgen.refs import files_in

        return files_in(path)


class DropArea(QWidget):
    """The tab's page: accepts dropped files and folders (local URLs) and hands them to ``on_drop(paths)``."""

    def __init__(self, on_drop: Callable[[list[Path]], Any]) -> None:
        super().__init__()
        self.on_drop = on_drop
        self.setAcceptDrops(True)

    @staticmethod
    def _paths(event) -> list[Path]:
        mime = event.mimeData()
        return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    dragMoveEvent = dragEnterEvent  # noqa: N815 - Qt override

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        paths = self._paths(event)
        if paths:
            event.acceptProposedAction()
            self.on_drop(paths)
        else:
            event.ignore()


def install(window: Any, index: Any = None) -> ReferencesPane:
    """Add the References tab to ``window`` (a MainWindow) and return its pane; the window's
    ``run_options()`` passes :meth:`ReferencesPane.run_files` on as ``RunOptions.references``."""
    pane = ReferencesPane(window, index)
    window.add_tab(pane.widget, "R&eferences")
    return pane


__all__ = ["ReferencesPane", "IndexThread", "DropArea", "install", "Row", "REFERENCE_FILTER"]
