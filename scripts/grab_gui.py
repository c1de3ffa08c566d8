"""Grab the docgen main window in each state to PNG files, at 100 % and 150 % scaling.

    python scripts/grab_gui.py OUT_DIR [--model]

States: empty, data-loaded, generating, reviewed (with a sentence the grounding check marked), gate (the export
question), preview (the pages as LibreOffice lays them out, when installed), batch, references (the References tab
with a search). Each scale runs in its own process
(QT_SCALE_FACTOR=1 and 1.5, QT_QPA_PLATFORM=offscreen unless set) with a throw-away DOCGEN_HOME. The text is
written by the scripted fake model (fast and repeatable) unless --model is given (the real embedded model).
Files: OUT_DIR/<state>@100.png, OUT_DIR/<state>@150.png.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCALES = {"100": "1", "150": "1.5"}
SIZE = (1280, 820)

SUMMARY = ("Superstore sold **$2,297,201** over 2014-2017 with a profit of $286,397 (12.5 % margin). "
           "The West was the strongest region with $725,458 in sales. The main concern is Furniture, "
           "where Tables lost $17,725. Online orders brought in $5 million more than planned.")
COMMENTARY = ("The West and East regions carried the period, together bringing in well over half of all sales, "
              "while the Central region trailed on profit.\n\n"
              "- **Technology** led every category on both sales and profit.\n"
              "- **Office Supplies** stayed steady, with Binders and Paper the most profitable lines.\n"
              "- **Tables**, **Bookcases** and **Supplies** lost money and need a pricing review.\n\n"
              "Recommendation: cut discounts on Tables first, where losses are largest.")
LETTER = ("We are very sorry that your player stopped working so soon after you bought it. That is not the "
          "experience we want for you.\n\nWe would like to offer you a free replacement or a full refund. "
          "Please contact support@example.com quoting your ticket number and we will arrange it at once.")


def script(messages) -> str:
    """Plausible text for the screenshots, chosen by the section's instruction."""
    last = messages[-1].content.lower()
    if "summarise these results" in last:  # the sales summary's instruction
        return SUMMARY
    if "commentary" in last:
        return COMMENTARY
    return LETTER


def settle(app, seconds: float = 0.3) -> None:
    """Let layouts and queued signals settle."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)


def grab_states(out_dir: Path, tag: str, use_model: bool) -> list[Path]:
    """Run in the child process: show the window and save one PNG per state."""
    from PySide6.QtWidgets import QMessageBox

    from docgen.gui import dialogs
    from docgen.gui.app import make_application
    from docgen.gui.export_controller import gate_question
    from docgen.gui.main_window import MainWindow
    from docgen.llm.fake import FakeGenerator
    from docgen.settings import Settings

    app = make_application()
    errors: list[str] = []
    dialogs.show_error = lambda _p, _t, message: errors.append(message)  # never block on a dialog
    dialogs.ask = lambda *_a: True
    work = Path(tempfile.mkdtemp(prefix="docgen-grab-"))
    settings = Settings(output_dir=str(work / "out"), threads=2)
    fake = FakeGenerator(script, delay=0.03)
    factory = None if use_model else (lambda _s: fake)
    window = MainWindow(settings, generator_factory=factory)
    window.resize(*SIZE)
    window.show()
    settle(app)
    saved: list[Path] = []

    def shot(state: str) -> None:
        settle(app)
        path = out_dir / f"{state}@{tag}.png"
        window.grab().save(str(path))
        saved.append(path)

    def wait_idle(limit: float = 600) -> None:
        end = time.perf_counter() + limit
        while (window.thread is not None or window.data.loading) and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.01)

    window.gallery.select("sales-report")
    shot("empty")
    window.use_sample()
    wait_idle()
    shot("data-loaded")
    window.start_generate()
    panel = window.sections_view.panels["commentary"]
    end = time.perf_counter() + 120
    while len(panel.text()) < 120 and window.thread is not None and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)
    shot("generating")
    wait_idle()
    summary = window.sections_view.panels["summary"].editor
    cursor = summary.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    cursor.insertText(" Checked by Sales Operations.")
    shot("reviewed")
    problems = window.draft.problems()
    if problems:
        box = QMessageBox(QMessageBox.Icon.Question, "Export with problems?", gate_question(problems),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, window)
        box.show()
        settle(app)
        path = out_dir / f"gate@{tag}.png"
        box.grab().save(str(path))
        saved.append(path)
        box.close()
    out = work / "sales-report.docx"
    window.start_export(out, confirmed=True)
    wait_idle()
    end = time.perf_counter() + 240
    while window.preview.rendering and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.05)
    if out.is_file():
        shot("preview")
    window.gallery.select("service-reply")
    window.use_sample()
    wait_idle()
    window.batch_panel.out_edit.setText(str(work / "letters"))
    window.start_batch()
    wait_idle()
    shot("batch")
    pane = window.references  # the References tab (service-reply's policies), with a search done
    window.tabs.setCurrentWidget(pane.widget)
    pane.search_box.setText("It broke after 3 months, can I get it repaired?")
    pane.search()
    end = time.perf_counter() + 60
    while (pane.busy or pane._pending) and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)
    pane.table.selectRow(0)
    shot("references")
    for message in errors:
        print(f"[{tag}] dialog: {message}", file=sys.stderr)
    window.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--model", action="store_true", help="use the real embedded model instead of the fake")
    parser.add_argument("--child", choices=sorted(SCALES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.child:
        for path in grab_states(args.out_dir, args.child, args.model):
            print(path)
        return 0
    status = 0
    for tag, factor in SCALES.items():
        env = {**os.environ, "QT_SCALE_FACTOR": factor}
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        env["DOCGEN_HOME"] = tempfile.mkdtemp(prefix="docgen-grab-home-")
        cmd = [sys.executable, __file__, str(args.out_dir), "--child", tag] + (["--model"] if args.model else [])
        status |= subprocess.run(cmd, env=env, check=False).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
