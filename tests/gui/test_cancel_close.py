"""Cancel stops the worker within 0.5 s even while the model reads a long prompt; closing the window during a
run asks, then cancels and waits for the thread (no "QThread: Destroyed while thread is still running")."""

from __future__ import annotations

import time

import shiboken6

from PySide6.QtCore import Qt

from docgen.llm.fake import FakeGenerator
from docgen.model import SectionResult


def test_cancel_during_long_prompt_stops_within_half_a_second(qtbot, make_window, prepare, wait_idle, answered):
    window = make_window(FakeGenerator(prompt_delay=10))  # "reads" each prompt for 10 s
    prepare(window, "sales-report")
    summary = window.sections_view.panels["summary"]
    window.draft.finish(SectionResult("summary", "Earlier text"))  # written by an earlier run
    window.review.show_draft()
    window.start_generate()
    qtbot.waitUntil(lambda: summary.status.text().startswith("Writing"), timeout=5000)
    qtbot.wait(200)
    thread = window.thread
    start = time.perf_counter()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert thread.wait(2000)
    latency = time.perf_counter() - start
    print(f"cancel latency during a 10 s (fake) prompt read: {latency:.3f} s")
    assert latency < 0.5, latency
    wait_idle(window)
    assert window.last_cancel_latency is not None and window.last_cancel_latency < 0.5
    assert answered.errors == []  # a cancel is not an error
    assert summary.text() == "Earlier text"  # what was there before is not lost
    assert window.draft.sections["summary"].state == "written"
    assert window.statusBar().currentMessage() == "Cancelled"
    assert window.generate_action.isEnabled()


def test_cancel_while_streaming(qtbot, make_window, prepare, wait_idle):
    window = make_window(FakeGenerator(" ".join(["word"] * 400), delay=0.02))
    prepare(window, "sales-report")
    window.start_generate()
    panel = window.sections_view.panels["summary"]
    qtbot.waitUntil(lambda: len(panel.text()) > 20, timeout=5000)
    thread = window.thread
    start = time.perf_counter()
    window.cancel_action.trigger()
    assert thread.wait(2000)
    assert time.perf_counter() - start < 0.5
    wait_idle(window)
    assert panel.status.text().startswith("Cancelled before it was finished")
    section = window.draft.sections["summary"]
    assert section.state == "cancelled" and section.text.startswith("word word")  # kept, but unfinished


def test_close_during_generation_asks_then_cancels(qtbot, make_window, prepare, answered):
    window = make_window(FakeGenerator(prompt_delay=10))
    prepare(window, "sales-report")
    window.start_generate()
    thread = window.thread
    qtbot.waitUntil(lambda: window.sections_view.panels["summary"].status.text().startswith("Writing"))

    answered.answer = False  # "Stop and close?" -> No: the window stays, the run goes on
    assert not window.close()
    assert window.isVisible() and thread.isRunning()
    assert len(answered.questions) == 1

    answered.answer = True
    start = time.perf_counter()
    assert window.close()
    assert time.perf_counter() - start < 1.0
    assert not window.isVisible()
    assert not shiboken6.isValid(thread) or thread.isFinished()  # finished (and already deleted later)
    assert window.thread is None
    assert len(answered.questions) == 2


def test_close_when_idle_does_not_ask(qtbot, make_window, answered):
    window = make_window()
    assert window.close()
    assert answered.questions == []
