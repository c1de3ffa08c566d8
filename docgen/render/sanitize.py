"""Make text safe to put into a .docx: what XML 1.0 forbids is removed or replaced, and what the text meant is
kept where it can be.

Rules, in order:

1. Terminal escape sequences (ANSI/VT100: ``ESC [ ... m`` colours, cursor moves, ``ESC ] ... BEL`` titles)
   are removed whole, so a value copied from a terminal does not leave ``[1m`` behind.
2. A vertical tab (U+000B, what Word puts on the clipboard for a manual line break) becomes a line break;
   a form feed (U+000C, a page break in text files) ends the paragraph.
3. ``\r\n`` and lone ``\r`` become ``\n`` (docxtpl turns ``\n`` inside a value into a Word line break).
4. A lone surrogate (U+D800-U+DFFF without its pair, e.g. from a JSON ``"\ud800"`` escape) becomes U+FFFD, the
   replacement character, so the reader sees that something was there.
5. Everything else XML 1.0 forbids (section 2.2 "Characters": other C0 controls, U+FFFE, U+FFFF) is removed.
   Allowed are U+0009, U+000A, U+000D, U+0020-U+D7FF, U+E000-U+FFFD and U+10000-U+10FFFF.

Nothing else is changed: ``&``, ``<``, ``>`` are escaped later by Jinja's autoescape, and strings that look like
model control tokens (``<|im_end|>``) are ordinary text here. (A blank line in a value becomes a new paragraph
when it is placed: :mod:`.paragraphs`.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from docgen.data.clean import ANSI as _ANSI
from docgen.data.clean import SURROGATE as _SURROGATE

_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def sanitize_text(text: str) -> str:
    """``text`` made safe for XML by the rules of the module docstring."""
    if "\x1b" in text or "\x9b" in text:
        text = _ANSI.sub("", text)
    if "\x0b" in text or "\x0c" in text:
        text = text.replace("\x0b", "\n").replace("\x0c", "\n\n")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SURROGATE.sub("\ufffd", text)
    return _FORBIDDEN.sub("", text)


def sanitize_value(value: Any) -> Any:
    """Sanitize every string inside ``value``, recursively through dicts, lists and tuples.

    Mappings come back as plain ``dict`` (keys kept as they are), lists and tuples keep their type; numbers,
    dates, ``None`` and other objects are returned unchanged.
    """
    if isinstance(value, str):
        return sanitize_text(value)
    if isinstance(value, Mapping):
        return {k: sanitize_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitize_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(sanitize_value(v) for v in value)
    return value
