"""The desktop app uses the section cache: Regenerate with 'New seed' unticked and nothing changed gives the same
text at once without the model (the status says so); with 'New seed' it writes new text."""

from __future__ import annotations

from docgen.llm.fake import FakeGenerator


def test_regenerate_same_seed_comes_from_the_cache_new_seed_asks_the_model(make_window, prepare, wait_idle,
                                                                           answered):
    gen = FakeGenerator(lambda m: f"Sales text for seed-independent prompt {len(m[-1].content)}.")
    gen.cache_identity = "scripted fake of this test"  # a fake is cached only when asked (docgen.cache)
    window = make_window(gen)
    prepare(window, "sales-report")
    window.start_generate()
    wait_idle(window)
    assert answered.errors == []
    panel = window.sections_view.panels["commentary"]
    text, calls = panel.text(), len(gen.calls)
    assert "section cache" not in panel.status.text()

    panel.new_seed.setChecked(False)
    panel.regenerate_button.click()
    wait_idle(window)
    assert len(gen.calls) == calls and panel.text() == text
    assert "from the section cache" in panel.status.text()

    panel.new_seed.setChecked(True)
    panel.regenerate_button.click()
    wait_idle(window)
    assert len(gen.calls) > calls  # a new seed is a new request: the model writes it
    assert "section cache" not in panel.status.text()
