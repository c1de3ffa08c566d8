"""The curated model catalogue: every entry complete, sourced and plausible; ``docgen models catalogue``."""

from __future__ import annotations

import json

import pytest

from docgen import cli
from docgen.errors import DocgenError
from docgen.models.catalogue import find_catalogue_entry, load_catalogue


def test_every_entry_is_sourced_and_plausible():
    entries = load_catalogue()
    assert len(entries) >= 6
    for e in entries:
        assert all(s.startswith("https://huggingface.co/") for s in e.sources), e.id
        assert e.url.startswith("https://huggingface.co/") and e.url.endswith("/" + e.file)
        # a Q4_K_M file holds about 4.5-5.5 bits per parameter (0.5B -> ~0.4 GB, 8B -> ~4.9 GB)
        params = float(e.parameters.rstrip("B")) * 1e9
        assert 0.5 < e.size_bytes * 8 / params < 7, e.id
        assert e.ram_bytes(4096) > e.size_bytes
        assert e.licence and e.good_for and e.context_length >= 8192
        if e.sha256:
            assert e.revision and f"/resolve/{e.revision}/" in e.url
    sizes = [e.size_bytes for e in entries]
    assert sizes == sorted(sizes)  # smallest first, as the picker shows them
    assert min(sizes) < 1e9 and max(sizes) < 6e9  # "about 0.5B to 8B that fit office PCs"


def test_entries_are_found_by_id_or_part():
    assert find_catalogue_entry("qwen2.5-1.5b-instruct").file == "Qwen2.5-1.5B-Instruct-Q4_K_M.gguf"
    assert find_catalogue_entry("phi").id == "phi-3.5-mini-instruct"
    with pytest.raises(DocgenError, match="matches several catalogue models"):
        find_catalogue_entry("qwen")
    with pytest.raises(DocgenError, match="No catalogue model 'gpt-5'"):
        find_catalogue_entry("gpt-5")


def test_a_broken_entry_is_named(tmp_path):
    bad = tmp_path / "catalogue.toml"
    bad.write_text('version = 1\n[[models]]\nid = "x"\nname = "X"\n', encoding="utf-8")
    with pytest.raises(DocgenError, match=r"model 1 \(x\): missing publisher"):
        load_catalogue(bad)


def test_catalogue_command(capsys):
    assert cli.main(["models", "catalogue", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["id"] for r in rows} >= {"qwen2.5-1.5b-instruct", "llama-3.2-3b-instruct", "llama-3.1-8b-instruct"}
    assert all(r["installed"] is False for r in rows)
    assert cli.main(["models", "catalogue"]) == 0
    out = capsys.readouterr().out
    assert "qwen2.5-1.5b-instruct" in out and "Apache-2.0" in out and "sources: https://huggingface.co/" in out
