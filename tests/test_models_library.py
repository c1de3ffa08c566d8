"""``docgen models list|info|add|remove|use``: the models folders as a library a user manages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docgen import cli, paths
from docgen.llm.discovery import embedded_model, find_model
from docgen.settings import load_settings
from tiny_gguf import CHATML, write_tiny_llama


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["models", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def downloads(tmp_path) -> Path:
    folder = tmp_path / "Downloads"
    folder.mkdir()
    write_tiny_llama(folder / "tiny-chat.gguf", chat_template=CHATML, name="Tiny Chat")
    write_tiny_llama(folder / "tiny-base.gguf", name="Tiny Base", seed=1)
    return folder


def listed(capsys) -> dict[str, dict]:
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    return {row["name"]: row for row in json.loads(out)}


def test_list_shows_the_embedded_model_with_its_facts(capsys):
    rows = listed(capsys)
    smol = rows[embedded_model().name]
    assert smol["source"] == "embedded" and smol["in_use"] and not smol["removable"]
    assert smol["architecture"] == "llama" and smol["quantization"] == "Q4_1" and smol["chat_template"]
    assert smol["context_length"] == 8192 and smol["license"] == "apache-2.0"
    # file + KV cache at the default n_ctx 4096 + compute buffers
    assert smol["ram_bytes"] == smol["size_bytes"] + 23040 * 4096 + 64_000_000
    code, out, _ = run(capsys, "list")
    assert "* SmolLM2-135M-Instruct.Q4_1.gguf  [embedded]" in out and "chat template" in out


def test_add_use_remove(capsys, downloads):
    code, out, err = run(capsys, "add", str(downloads / "tiny-base.gguf"))
    assert code == 0 and (paths.user_models_dir() / "tiny-base.gguf").is_file()
    assert "no chat template" in err  # said when the file is added
    assert (downloads / "tiny-base.gguf").is_file()  # copied, not moved
    code, out, err = run(capsys, "add", str(downloads / "tiny-chat.gguf"), "--use")
    assert code == 0 and "docgen now uses tiny-chat.gguf" in out and err == ""
    assert find_model(load_settings().model_path) == paths.user_models_dir() / "tiny-chat.gguf"
    rows = listed(capsys)
    assert rows["tiny-chat.gguf"]["in_use"] and not rows["tiny-base.gguf"]["in_use"]
    assert rows["tiny-base.gguf"]["chat_template"] is False and rows["tiny-base.gguf"]["source"] == "user"

    code, out, err = run(capsys, "use", "smollm2")  # a unique part of the name
    assert code == 0 and "SmolLM2-135M-Instruct.Q4_1.gguf (embedded)" in out
    # the user folder's first file would win discovery, so the embedded model is written as a path
    assert find_model(load_settings().model_path) == embedded_model()

    code, out, err = run(capsys, "use", "tiny")
    assert code == 2 and "matches several models (tiny-base.gguf, tiny-chat.gguf)" in err
    code, out, err = run(capsys, "use", "tiny-base")
    assert code == 0 and "no chat template" in err

    code, out, err = run(capsys, "remove", "tiny-base.gguf")
    assert code == 0 and not (paths.user_models_dir() / "tiny-base.gguf").exists()
    assert load_settings().model_path == ""  # it was in use: back to discovery
    assert "In use now: tiny-chat.gguf" in out


def test_only_the_users_own_models_can_be_removed(capsys, downloads):
    site = paths.site_models_dir()
    site.mkdir(parents=True)
    write_tiny_llama(site / "it-approved.gguf", chat_template=CHATML)
    code, _, err = run(capsys, "remove", "it-approved")
    assert code == 2 and "IT's models folder" in err and (site / "it-approved.gguf").exists()
    code, _, err = run(capsys, "remove", "SmolLM2")
    assert code == 2 and "embedded default model cannot be removed" in err
    code, _, err = run(capsys, "remove", "nothing-like-this")
    assert code == 2 and "No model named 'nothing-like-this'. Models: it-approved.gguf, SmolLM2" in err


def test_use_refused_when_the_policy_chooses_the_model(capsys, downloads):
    run(capsys, "add", str(downloads / "tiny-chat.gguf"))
    policy = paths.policy_file()
    policy.parent.mkdir(parents=True)
    policy.write_text(f'model_path = "{embedded_model().as_posix()}"\n', encoding="utf-8")
    code, _, err = run(capsys, "use", "tiny-chat")
    assert code == 2 and "chosen by your IT department's policy" in err
    assert listed(capsys)[embedded_model().name]["in_use"]


def test_unusable_files_are_listed_with_the_reason(capsys):
    folder = paths.user_models_dir()
    folder.mkdir(parents=True)
    (folder / "broken.gguf").write_bytes(b"<html>404</html>" + bytes(64))
    code, out, _ = run(capsys, "list")
    assert code == 0 and "broken.gguf  [user]  UNUSABLE:" in out and "is not a GGUF model file" in out
    code, _, err = run(capsys, "add", str(folder / "missing.gguf"))
    assert code == 2 and "does not exist" in err


def test_add_refuses_a_different_file_of_the_same_name(capsys, downloads, tmp_path):
    run(capsys, "add", str(downloads / "tiny-chat.gguf"))
    other = tmp_path / "other"
    other.mkdir()
    write_tiny_llama(other / "tiny-chat.gguf", chat_template=CHATML, n_ff=256)
    code, _, err = run(capsys, "add", str(other / "tiny-chat.gguf"))
    assert code == 2 and "already exists and is a different file" in err
    assert not list(paths.user_models_dir().glob(".~docgen-*"))


def test_info_prints_metadata(capsys):
    code, out, _ = run(capsys, "info", "SmolLM2", "--json")
    data = json.loads(out)
    assert code == 0 and data["metadata"]["general.architecture"] == "llama"
    assert data["metadata"]["tokenizer.ggml.tokens"] == "<array of 49152>"
    assert "<|im_start|>" in data["chat_template_text"]
