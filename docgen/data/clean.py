"""Cleaning of cell text on reading: what a Word document cannot hold is taken out of a value once, when the file
is read, and the reader remembers where, so the user is told (file, row, column) instead of a value silently
changing on its way into a document.

Rules (the same as :mod:`docgen.render.sanitize` applies to every value placed in a document, minus the line-break
conversions, which change nothing a reader sees):

1. Terminal escape sequences (ANSI/VT100: ``ESC [ ... m`` colours, cursor moves, ``ESC ] ... BEL`` titles) are
   removed whole, so a value copied from a terminal does not leave ``[1m`` behind.
2. A lone surrogate (U+D800-U+DFFF without its pair, e.g. from a JSON ``"\\ud800"`` escape) becomes U+FFFD, the
   replacement character, so the reader sees that something was there.
3. Every other character XML 1.0 forbids (section 2.2 "Characters": the C0 controls other than tab, line feed,
   carriage return, vertical tab and form feed; U+FFFE, U+FFFF) is removed. Vertical tab and form feed stay:
   they become a line break and a new paragraph when placed in a document.

:data:`DIRTY_SQL` finds the values rule 1 or 3 would change inside the table engine (a lone surrogate cannot be
stored there: readers clean it before). :func:`clean_text` applies the rules and says what it did.
"""

from __future__ import annotations

import re

#: ECMA-48 control sequences as terminals print them: CSI (ESC [ parameters final byte) and OSC (ESC ] ... BEL or
#: ESC \\). A lone ESC is removed by rule 3 and the text after it kept.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
SURROGATE = re.compile("[\ud800-\udfff]")
#: Characters removed by rule 3 (XML 1.0 forbids them; \x0b and \x0c are kept for the document writer).
FORBIDDEN = re.compile("[\x00-\x08\x0e-\x1f\ufffe\uffff]")
_DIRTY = re.compile("[\x00-\x08\x0e-\x1f\x9b\ufffe\uffff\ud800-\udfff]")
#: The same test as :func:`is_dirty` in the engine's regular-expression syntax (RE2), for values held there.
DIRTY_SQL = r"[\x{0}-\x{8}\x{e}-\x{1f}\x{9b}\x{fffe}\x{ffff}]"

#: What :func:`clean_text` reports, in the words a user reads.
CONTROL = "control characters removed"
TERMINAL = "terminal colour/control codes removed"
BROKEN = "a broken character (a lone UTF-16 surrogate) replaced by \ufffd"


def is_dirty(text: str) -> bool:
    """True when :func:`clean_text` would change ``text``."""
    return _DIRTY.search(text) is not None


def clean_text(text: str) -> tuple[str, tuple[str, ...]]:
    """``text`` cleaned by the rules of the module docstring, and what was done (a tuple of :data:`TERMINAL`,
    :data:`BROKEN`, :data:`CONTROL`, in that order; empty when nothing changed)."""
    if not is_dirty(text):
        return text, ()
    done: list[str] = []
    if "\x1b" in text or "\x9b" in text:
        stripped = ANSI.sub("", text)
        if stripped != text:
            done.append(TERMINAL)
            text = stripped
    fixed = SURROGATE.sub("\ufffd", text)
    if fixed != text:
        done.append(BROKEN)
        text = fixed
    removed = FORBIDDEN.sub("", text)
    if removed != text:
        done.append(CONTROL)
        text = removed
    return text, tuple(done)
