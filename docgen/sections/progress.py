"""Progress events of one document's sections, sent up as :class:`~docgen.model.ProgressEvent` callbacks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docgen.model import ProgressEvent

EventCallback = Callable[[ProgressEvent], None]


@dataclass
class Progress:
    """Sends the events of document ``document`` of ``documents`` to ``on_event`` (no-op when it is None)."""

    on_event: EventCallback | None = None
    document: int = 0
    documents: int = 1

    def emit(self, kind: str, **kw: Any) -> None:
        """One event of ``kind`` (see :data:`docgen.model.EventKind`) for this document."""
        if self.on_event:
            self.on_event(ProgressEvent(kind, document=self.document, documents=self.documents, **kw))

    def streamer(self, section_id: str, index: int, count: int) -> Callable[[str], None]:
        """A token callback for section ``section_id`` (``index`` of ``count``): a ``token`` event per delta
        with the running token count and tokens/s since the callback was made."""
        state = {"n": 0, "t0": time.perf_counter()}

        def on_token(piece: str) -> None:
            state["n"] += 1
            elapsed = max(time.perf_counter() - state["t0"], 1e-6)
            self.emit("token", section_id=section_id, section=index, sections=count, text=piece,
                      tokens=state["n"], tokens_per_second=state["n"] / elapsed)
        return on_token


__all__ = ["Progress", "EventCallback"]
