"""The rich review editor round-trips every Markdown construct docgen's renderer supports: the Markdown is shown
formatted, written back from the edited document, and the renderer puts the same thing into Word (read back
block by block, runs and table alignment included). Also: Qt's own toMarkdown loses some of them (why the
editor has its own writer), untouched text is never rewritten, and a real edit keeps the structure."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import docx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument

from docgen.gui.richtext import MarkdownEditor, document_to_markdown, plain_sentence
from docgen.render import read_back, render_document

CONSTRUCTS = {
    "paragraphs": "First paragraph, soft\nbreak joined.\n\nSecond paragraph.",
    "headings": "# One\n\n## Two\n\n### Three\n\n#### Four\n\n##### Five\n\n###### Six\n\nBody.",
    "emphasis": "Some **bold**, *italic*, ***both***, ~~struck~~ and `code_1` text.",
    "hard break": "First line  \nsecond line after a hard break.",
    "bullets": "- Europe\n  - Germany\n    - Berlin\n  - France\n- Asia",
    "numbers": "1. Plan\n2. Build\n3. Ship",
    "restarting numbers": "1. Plan\n2. Build\n\n1. Review\n2. Ship",
    "start number": "Intro.\n\n3. Starts at three\n4. Four",
    "numbers in bullets": "- Phase one\n  1. Plan\n  2. Build\n- Phase two",
    "table with alignment": "| Region | Revenue | Share |\n|:-------|--------:|:-----:|\n| EMEA | 1.2M | 40 % |\n"
                            "| West | **725,458** | 31 % |",
    "code block": "Before.\n\n```\nline 1\n  indented line 2\n```\n\nAfter.",
    "quote": "> A quoted remark\n> over two lines.\n\nAfter.",
    "link": "Visit [our site](https://example.com/report?q=1&x=2) today.",
    "image": "An ![chart of sales](chart.png) here.",
    "literal markup": "Raw <b>tag</b> stays text, 3 * 4 = 12, snake_case, a [bracket], #hash and 1. in text.",
    "escaped line starts": "\\# not a heading\n\n\\- not a bullet\n\n2024\\. not a list",
}


def _template(path: Path) -> Path:
    d = docx.Document()
    d.add_paragraph("{{p sections.body }}")
    d.save(str(path))
    return path


def _merged(block):
    """A read-back block with adjacent runs of the same formatting joined: Word shows "soft" + " " + "break"
    and "soft break" alike (the renderer writes a run per soft line break)."""
    runs = getattr(block, "runs", None)
    if not runs:
        return block
    merged = []
    for run in runs:
        if merged and (merged[-1].bold, merged[-1].italic, merged[-1].code) == (run.bold, run.italic, run.code):
            merged[-1] = dataclasses.replace(merged[-1], text=merged[-1].text + run.text)
        else:
            merged.append(run)
    return dataclasses.replace(block, runs=tuple(merged))


def _word(tmp_path: Path, name: str, md: str):
    """What Word gets for ``md``: the read-back blocks (runs merged, see _merged) and every table cell's
    alignment."""
    out = render_document(_template(tmp_path / f"{name}.t.docx"), {}, {"body": ("markdown", md)},
                          tmp_path / f"{name}.docx")
    alignments = [[c.paragraphs[0].alignment for c in row.cells] for t in docx.Document(str(out)).tables
                  for row in t.rows]
    return [_merged(b) for b in read_back(out)], alignments


@pytest.mark.parametrize("name", list(CONSTRUCTS))
def test_round_trip(qtbot, tmp_path, name):
    md = CONSTRUCTS[name]
    editor = MarkdownEditor(rich=True)
    qtbot.addWidget(editor)
    editor.set_markdown(md)
    written = document_to_markdown(editor.document())
    assert _word(tmp_path, "a", written) == _word(tmp_path, "b", md), written


def test_qt_markdown_writer_loses_what_the_editor_keeps(qtbot):
    doc = QTextDocument()
    doc.setMarkdown(CONSTRUCTS["restarting numbers"])
    assert "4." in doc.toMarkdown()  # Qt merges the two lists: 1-4 (the reason for our own writer)
    doc.setMarkdown(CONSTRUCTS["table with alignment"])
    assert "--:" not in doc.toMarkdown()  # and drops column alignment


def test_untouched_text_is_given_back_exactly(qtbot):
    editor = MarkdownEditor(rich=True)
    qtbot.addWidget(editor)
    md = "Sales  were   **strong**.\n\n\n* one\n* two"
    editor.set_markdown(md)
    assert editor.markdown() == md


def test_a_real_edit_keeps_the_structure(qtbot, tmp_path):
    editor = MarkdownEditor(rich=True)
    qtbot.addWidget(editor)
    md = "## Summary\n\nThe **West** leads.\n\n- Technology grows\n- Phones sell well\n\n| A | B |\n|---|--:|\n| 1 | 2 |"
    editor.set_markdown(md)
    editor.setFocus()
    cursor = editor.document().find("leads.")
    cursor.clearSelection()
    editor.setTextCursor(cursor)
    qtbot.keyClicks(editor, " Checked by Ann")
    out = editor.markdown()
    assert "The **West** leads. Checked by Ann" in out
    blocks, aligns = _word(tmp_path, "edit", out)
    expected, expected_aligns = _word(tmp_path, "orig", md.replace("leads.", "leads. Checked by Ann"))
    assert (blocks, aligns) == (expected, expected_aligns)


def test_bold_shortcut(qtbot):
    editor = MarkdownEditor(rich=True)
    qtbot.addWidget(editor)
    editor.set_markdown("Plain words here.")
    cursor = editor.document().find("words")
    editor.setTextCursor(cursor)
    editor.setFocus()
    qtbot.keyClick(editor, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert editor.markdown() == "Plain **words** here."


def test_plain_sentence():
    assert plain_sentence("**Tables** lost $17,725 on [the site](https://x).") == "Tables lost $17,725 on the site."
