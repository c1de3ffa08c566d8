"""Progress of a batch run on stderr: a tqdm bar on a terminal, plain lines elsewhere (a log file, a CI job, a
pipe), nothing with ``-q``.

The line form exists because a first run on the CPU can take minutes per document: a user who redirects
stderr, or runs docgen from a script, must still see that it works and how far it got. Lines are throttled so
that a fast batch of thousands of rows does not flood the log: a document line when a document fails, for the
last document, and otherwise at most one every :data:`DOCUMENT_EVERY` seconds; a section line ("writing
section 'body'") after :data:`QUIET_FOR` seconds without a line, and again every :data:`QUIET_FOR` seconds while
the model writes it (on its streamed tokens).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from docgen.model import ProgressEvent

#: Seconds between two "document N of M done" lines (a failed or the last document is always printed).
DOCUMENT_EVERY = 5.0
#: Seconds without any line after which the section being written is named (a slow first run says it works).
QUIET_FOR = 10.0


class BatchProgress:
    """The ``on_event`` callback of :func:`docgen.batch.run_batch` for the CLI.

    ``mode``: ``"bar"`` (tqdm, for a terminal), ``"lines"`` (plain throttled lines) or ``"off"``. ``shown`` is
    True when the user sees progress (the bar or lines), so the summary need not repeat what was listed.
    ``clock`` is injectable for tests (seconds, monotonic)."""

    def __init__(self, mode: str, stream: TextIO | None = None, clock: Any = time.monotonic, *,
                 dry_run: bool = False) -> None:
        if mode not in ("bar", "lines", "off"):
            raise ValueError(f"progress mode must be bar, lines or off, got {mode!r}")
        self.mode = mode
        self.stream = stream or sys.stderr
        self.clock = clock
        self.bar: Any = None
        self.failed = 0
        self.done = 0
        self.total = 0
        self.started = 0.0
        self.last_line = 0.0
        self.section = ""
        self.dry_run = dry_run

    @classmethod
    def for_terminal(cls, quiet: bool, stream: TextIO | None = None, *, dry_run: bool = False) -> "BatchProgress":
        """Bar on a terminal, lines elsewhere, off with ``quiet``; a ``dry_run`` says "checking", not "writing"."""
        stream = stream or sys.stderr
        return cls("off" if quiet else "bar" if stream.isatty() else "lines", stream, dry_run=dry_run)

    @property
    def shown(self) -> bool:
        return self.mode != "off"

    def __call__(self, event: ProgressEvent) -> None:
        if self.mode == "bar":
            self._bar(event)
        elif self.mode == "lines":
            self._line(event)

    def _print(self, text: str) -> None:
        print(f"docgen: {text}", file=self.stream, flush=True)
        self.last_line = self.clock()

    def _line(self, event: ProgressEvent) -> None:
        now = self.clock()
        if event.kind == "run_started":
            self.total, self.started = event.documents, now
            what = "checking" if self.dry_run else "writing"
            self._print(f"{what} {event.documents} document(s); a line every few seconds shows progress")
        elif event.kind in ("section_started", "token") and now - self.last_line >= QUIET_FOR:
            # a section that takes long (a first CPU run) says it is still being written, every QUIET_FOR s
            if event.section_id:
                self.section = event.section_id
            written = f"{event.tokens} tokens, " if event.kind == "token" and event.tokens else ""
            self._print(f"[{self.done + 1}/{self.total or '?'}] writing section '{self.section}' "
                        f"({written}{now - self.started:.0f} s so far)")
        elif event.kind in ("section_started", "token") and event.section_id:
            self.section = event.section_id
        elif event.kind in ("document_done", "document_failed"):
            self.done += 1
            name = event.path.name if event.path else f"document {event.document + 1}"
            if event.kind == "document_failed":
                self.failed += 1
                self._print(f"[{self.done}/{self.total}] failed: {event.text}")
            elif self.done == self.total or now - self.last_line >= DOCUMENT_EVERY:
                self._print(f"[{self.done}/{self.total}] done: {name} ({now - self.started:.0f} s so far)")

    def _bar(self, event: ProgressEvent) -> None:
        from tqdm import tqdm

        if event.kind == "run_started":
            self.bar = tqdm(total=event.documents, unit="doc", desc="docgen", dynamic_ncols=True, file=self.stream)
        elif self.bar is None:
            return
        elif event.kind == "token" and event.tokens_per_second:
            self.bar.set_postfix_str(f"{event.section_id}: {event.tokens_per_second:.0f} tok/s", refresh=False)
        elif event.kind == "section_started":
            self.bar.set_postfix_str(f"{event.section_id}", refresh=True)
        elif event.kind in ("document_done", "document_failed"):
            if event.kind == "document_failed":
                self.failed += 1
                self.bar.write(f"  failed: {event.text}", file=self.stream)
            self.bar.update(1)
        elif event.kind == "run_done":
            self.bar.close()


__all__ = ["BatchProgress", "DOCUMENT_EVERY", "QUIET_FOR"]
