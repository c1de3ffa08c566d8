"""The checks stage: what stops a document from being written.

- A section the model left empty (an ``empty`` :class:`~docgen.model.Mark`, :mod:`docgen.sections.document`)
  fails its document: a reader never gets a silent blank.
- ``--strict-grounding`` (``RunOptions.strict_grounding``): a document with any figure the data does not
  support fails too.

Both only when the document is about to be written; without an output path (the GUI's review step) the
results, marks included, go back to the caller.
"""

from __future__ import annotations

from collections.abc import Mapping

from docgen.errors import DocgenError
from docgen.model import DocumentJob, RunOptions, SectionResult


def refuse_failed(job: DocumentJob, results: Mapping[str, SectionResult], options: RunOptions, *,
                  writing: bool) -> None:
    """Raise DocgenError naming the section(s) and the record when a document about to be written has an empty
    section, or (``strict_grounding``) any unsupported figure. Does nothing when ``writing`` is False."""
    if not writing:
        return
    empty = [m.message for r in results.values() for m in r.marks if m.kind == "empty"]
    if empty:
        raise DocgenError(f"{job.record}: the document was not written because a section is empty. "
                          + " ".join(empty))
    ungrounded = [f"section '{r.id}': {', '.join(repr(u) for u in r.ungrounded)}" for r in results.values()
                  if r.ungrounded]
    if options.strict_grounding and ungrounded:
        raise DocgenError(f"Figures not found in the data ({job.record}), so the document was not written "
                          f"(--strict-grounding): {'; '.join(ungrounded)}. Correct or regenerate those sections, "
                          "or run without --strict-grounding to write it with warnings in the report.")


__all__ = ["refuse_failed"]
