"""Make text safe to put into a .docx: remove what XML 1.0 forbids.

Rule (XML 1.0, section 2.2 "Characters"): allowed are U+0009, U+000A, U+000D, U+0020-U+D7FF,
U+E000-U+FFFD and U+10000-U+10FFFF. Everything else (C0 control characters, lone surrogates, U+FFFE,
U+FFFF) is removed. ``\\r\\n`` and lone ``\\r`` become ``\\n`` (docxtpl turns ``\\n`` inside a value into a
Word line break). Nothing else is changed: ``&``, ``<``, ``>`` are escaped later by Jinja's autoescape, and
strings that look like model control tokens (``<|im_end|>``) are ordinary text here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def sanitize_text(text: str) -> str:
    """Return ``text`` without characters XML 1.0 forbids and with ``\\r\\n``/``\\r`` turned into ``\\n``."""
    text = _FORBIDDEN.sub("", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


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
