"""The real embedded model (SmolLM2-135M GGUF) through the window: generate, edit, regenerate, export, read the
.docx back; and Cancel while the model reads a long prompt stops within 0.5 s (llama.cpp abort callback)."""

from __future__ import annotations

import shutil
import sys
import time

import docx
import pytest

from docgen.errors import ModelNotFound
from docgen.llm.discovery import find_model
from docgen.settings import Settings

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture
def model_settings(tmp_path) -> Settings:
    try:
        path = find_model()
    except ModelNotFound as exc:
        pytest.skip(str(exc))
    pytest.importorskip("llama_cpp")
    return Settings(model_path=str(path), threads=2, output_dir=str(tmp_path / "out"))


@pytest.fixture
def real_window(make_window, model_settings):
    from docgen.gui.workers import default_factory

    calls = []

    def factory(settings):
        calls.append(1)
        return default_factory(settings)

    window = make_window(settings=model_settings, factory=factory)
    window.factory_calls = calls
    return window


def test_service_reply_with_the_real_model(qtbot, real_window, prepare, wait_idle, answered, tmp_path):
    window = real_window
    prepare(window, "service-reply")
    window.data_panel.table.selectRow(1)
    ticket = str(window.dataset.rows[1]["ticket_id"])
    window.fields_form.inputs["signer"].setText("Ann Smith, Customer Care")
    window.start_generate()
    wait_idle(window, timeout=600_000)
    assert answered.errors == []
    assert window.factory_calls == [1] and window.session.loaded
    assert "llama_cpp" in sys.modules
    body = window.sections_view.panels["body"]
    first = body.text()
    assert len(first.split()) >= 10, first
    assert "tokens/s" in window.speed_label.text()

    body.new_seed.setChecked(True)  # regenerate with a new seed: the model writes it again
    body.regenerate_button.click()
    wait_idle(window, timeout=600_000)
    assert answered.errors == []
    assert window.draft.sections["body"].seed != 42 and len(body.text().split()) >= 10

    body.editor.setPlainText(body.text() + "\n\nWe have already sent a courier label.")  # edit: locks it
    assert body.locked and not body.regenerate_button.isEnabled()

    out = tmp_path / "reply.docx"
    answered.save_path = out
    window.export_dialog()
    wait_idle(window, timeout=600_000)
    assert answered.errors == []
    document = docx.Document(str(out))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "We have already sent a courier label." in text
    assert body.text().split()[0].strip("*#-") in text
    assert "Ann Smith, Customer Care" in text
    assert ticket in text or ticket in window.suggested_name()
    assert "We have already sent a courier label." in window.preview.text()
    assert window.factory_calls == [1]  # one model load for the whole session


def test_cancel_real_model_during_long_prompt(qtbot, real_window, prepare, wait_idle, answered, tmp_path):
    package = tmp_path / "long-prompt"
    shutil.copytree(window_template_root(), package)
    manifest = package / "docgen.toml"
    text = manifest.read_text(encoding="utf-8")
    # A context of ~120 order lines (about 3,000 tokens) that the model must read before writing anything.
    text = text.replace('id = "sales-report"', 'id = "long-prompt"', 1).replace(
        'context = """', 'context = """{% for r in rows[:120] %}Order: {{ r.City }}, {{ r.State }}, {{ r.Category }}, '
        '{{ r["Sub-Category"] }}, sales {{ r.Sales }}, profit {{ r.Profit }}, quantity {{ r.Quantity }}\n{% endfor %}', 1)
    manifest.write_text(text, encoding="utf-8")
    window = real_window
    assert window.open_template(package)
    window.data_panel.sample_button.click()
    qtbot.waitUntil(lambda: window.dataset is not None and not window.data.loading, timeout=60_000)
    window.start_generate()
    panel = window.sections_view.panels["summary"]
    qtbot.waitUntil(lambda: panel.status.text().startswith("Writing"), timeout=120_000)
    qtbot.wait(500)  # the model is now reading the long prompt
    assert panel.text() == ""  # nothing written yet: still in prompt processing
    thread = window.thread
    start = time.perf_counter()
    window.cancel_run()
    assert thread.wait(5000)
    latency = time.perf_counter() - start
    print(f"cancel latency with the real model during a long prompt: {latency:.3f} s")
    assert latency < 0.5, latency
    wait_idle(window)
    assert answered.errors == []


def window_template_root():
    from docgen.templates.catalog import resolve

    return resolve("sales-report").root
