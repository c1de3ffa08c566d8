"""GGUF headers read without loading the weights: the embedded model, a base model without a chat template
(a tiny llama GGUF written with the ``gguf`` package), damaged files; and the base-model warning at load time
(a real llama.cpp load) and in ``docgen doctor``."""

from __future__ import annotations

from pathlib import Path

import pytest

from docgen import cli
from docgen.errors import ModelLoadError, ModelNotFound
from docgen.llm.discovery import embedded_model
from docgen.models import GGUFError, base_model_warning, read_gguf
from docgen.models.gguf_info import quantization_name
from tiny_gguf import CHATML, write_tiny_llama

BASE_WARNING = "this model has no chat template; it looks like a base model, docgen needs an instruct model"


@pytest.fixture
def base_model(tmp_path) -> Path:
    return write_tiny_llama(tmp_path / "tiny-base.gguf", name="Tiny Base", license="mit")


def test_embedded_model_header():
    path = embedded_model()
    info = read_gguf(path)
    assert info.architecture == "llama" and info.quantization == "Q4_1"
    assert info.context_length == 8192 and info.license == "apache-2.0"
    assert info.has_chat_template and "<|im_start|>" in info.chat_template
    assert 130e6 < info.parameters < 140e6  # SmolLM2-135M
    assert info.vocab_size == 49152 and info.layers == 30
    # 30 layers x 3 KV heads x (64 + 64) x 2 bytes (F16 cache)
    assert info.kv_bytes_per_token() == 30 * 3 * 128 * 2
    assert info.size == path.stat().st_size
    assert base_model_warning(info) is None


@pytest.mark.slow
def test_reader_agrees_with_the_gguf_package():
    from gguf import GGUFReader

    path = embedded_model()
    info = read_gguf(path)
    ref = GGUFReader(str(path))
    assert info.tensor_count == len(ref.tensors)
    assert info.parameters == sum(int(t.n_elements) for t in ref.tensors)
    for key, field in ref.fields.items():
        if key.startswith("GGUF."):
            continue
        value = info.metadata[key]
        if isinstance(value, list) or not hasattr(value, "length"):
            expected = field.contents()
            if isinstance(expected, float):
                assert value == pytest.approx(expected)
            else:
                assert value == expected, key
        else:  # a long array kept as its length
            assert value.length == len(field.data), key


def test_base_model_without_chat_template(base_model):
    info = read_gguf(base_model)
    assert not info.has_chat_template and info.chat_template is None
    assert info.name == "Tiny Base" and info.architecture == "llama" and info.quantization == "F32"
    assert info.context_length == 512 and info.vocab_size == 259
    # token_embd + output (259 x 64 each) + output_norm + per layer: 2 norms, q, k, v, o, 3 FFN matrices
    per_layer = 64 + 64 + 64 * 64 + 2 * (32 * 64) + 64 * 64 + 3 * 128 * 64
    assert info.parameters == 2 * 259 * 64 + 64 + 2 * per_layer
    warning = base_model_warning(info)
    assert warning.startswith("tiny-base.gguf: " + BASE_WARNING)
    assert read_gguf(write_tiny_llama(base_model.with_name("chat.gguf"), chat_template=CHATML)).has_chat_template


def test_not_a_gguf_file_names_it(tmp_path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(GGUFError, match=r"model\.bin is not a GGUF model file \(it starts with b'PK"):
        read_gguf(bad)
    with pytest.raises(ModelNotFound, match="does not exist"):
        read_gguf(tmp_path / "missing.gguf")


def test_truncated_header_is_reported_not_crashed(tmp_path):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(embedded_model().read_bytes()[:200_000])  # inside the vocabulary
    with pytest.raises(GGUFError, match="truncated or damaged.*Download the model again"):
        read_gguf(cut)
    assert issubclass(GGUFError, ModelLoadError)


def test_quantization_names_follow_llama_cpp():
    assert quantization_name(15) == "Q4_K_M" and quantization_name(3) == "Q4_1" and quantization_name(0) == "F32"
    assert quantization_name(None, {12: 100, 0: 5}) == "Q4_K?"
    assert quantization_name(None) == "unknown"


@pytest.mark.model
def test_llama_cpp_load_of_a_base_model_warns(base_model):
    from docgen.llm.llamacpp import LlamaCppGenerator

    generator = LlamaCppGenerator(base_model, n_ctx=256, n_threads=1)
    try:
        assert len(generator.warnings) == 1 and BASE_WARNING in generator.warnings[0]
    finally:
        generator.close()
    instruct = LlamaCppGenerator(embedded_model(), n_ctx=256, n_threads=1)
    try:
        assert instruct.warnings == ()
    finally:
        instruct.close()


@pytest.mark.model
def test_batch_run_with_a_base_model_says_so_on_stderr(base_model, tmp_path, capsys):
    code = cli.main(["--template", "service-reply", "--data", "templates/service-reply/sample.csv",
                     "--out", str(tmp_path / "out"), "--model", str(base_model), "--dry-run"])
    err = capsys.readouterr().err
    assert code == 0
    assert f"docgen: warning: tiny-base.gguf: {BASE_WARNING}" in err


def test_doctor_reports_the_chat_template(capsys, base_model, monkeypatch):
    from docgen import paths

    paths.user_config_dir().mkdir(parents=True, exist_ok=True)
    paths.settings_file().write_text(f'model_path = "{base_model.as_posix()}"\n', encoding="utf-8")
    code = cli.main(["doctor"])
    out = capsys.readouterr().out
    assert code == 0  # docgen can run it, but says what to expect
    assert f"! chat template: tiny-base.gguf: {BASE_WARNING}" in " ".join(out.split())
    paths.settings_file().unlink()
    cli.main(["doctor"])
    out = capsys.readouterr().out
    assert "chat template: present (llama, Q4_1, trained context 8192 tokens)" in " ".join(out.split())
