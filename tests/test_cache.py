"""The section cache (docgen.cache): a second run of an unchanged document costs no model tokens and gives the
same text, provenance and the report say ``cached``; a changed field regenerates only the sections whose prompt
names it; two processes share the store; the size bound drops the least recently used replies."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import docx
import pytest

from docgen.cache import CachedGenerator, SectionCache, cache_file, model_identity, request_key, with_cache
from docgen.cli import main
from docgen.llm import open_generator
from docgen.llm.base import Message, Request, generate_all, request_stream
from docgen.llm.fake import FakeGenerator
from docgen.llm.prompt import build_document_prompts
from docgen.model import GenerationParams, SectionSpec
from docgen.pipeline import DocumentJob, RunOptions, generate
from docgen.provenance import read_sidecar
from docgen.render import read_back
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve
from docgen.templates.manifest import load_manifest

MANIFEST = """
[template]
id = "two-parts"
name = "Two parts"
version = "1.0.0"

[data]
mode = "table"

[[fields]]
name = "company"
label = "Company"
default = "Northwind"

[[fields]]
name = "signer"
label = "Signed by"
default = "Ann"

[[sections]]
id = "intro"
title = "Introduction"
format = "text"
prompt = "Write one sentence welcoming the readers of {{ company }}'s sales note."
max_tokens = 40

[[sections]]
id = "outlook"
title = "Outlook"
format = "text"
prompt = "Write one sentence about the outlook for the products in the data."
max_tokens = 40
"""


def tiny_template(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "docgen.toml").write_text(MANIFEST, encoding="utf-8")
    d = docx.Document()
    d.add_paragraph("{{ sections.intro }}")
    d.add_paragraph("{{ sections.outlook }}")
    d.add_paragraph("Signed: {{ signer }}")
    d.save(str(root / "template.docx"))
    return root


def tiny_data(tmp_path: Path) -> Path:
    path = tmp_path / "sales.csv"
    path.write_text("product,units\nkettle,12\ntoaster,7\n", encoding="utf-8")
    return path


def _details_layout() -> bool:
    """True while every field still goes into every section's prompt (the 'Details:' block), so a changed field
    cannot leave any section cached; the prompt layout without it is separate work (i8-perf)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        spec = load_manifest(tiny_template(Path(tmp) / "t"))
        prompts = build_document_prompts(spec, spec.sections, {"company": "Acme", "signer": "Quentin Zed", "rows": []},
                                         FakeGenerator())
    return any("Quentin Zed" in m.content for p in prompts for m in p.messages)


class Counting:
    """Passes every call to the real model and adds up what it evaluated and generated."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls = 0
        self.evaluated = 0
        self.generated = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def generate(self, messages, params, **kw):
        gen = self.inner.generate(messages, params, **kw)
        self.calls += 1
        self.evaluated += gen.evaluated_tokens
        self.generated += gen.tokens
        return gen

    def generate_many(self, requests, **kw):  # the llama.cpp backend decodes sequences together
        gens = self.inner.generate_many(requests, **kw)
        self.calls += len(gens)
        self.evaluated += sum(g.evaluated_tokens for g in gens)
        self.generated += sum(g.tokens for g in gens)
        return gens


class Together(Counting):
    """A backend that decodes several sequences at once (records each batch's size; decodes them in turn)."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.batches: list[int] = []

    def generate_many(self, requests, *, on_token=None, cancel=None):
        self.batches.append(len(requests))
        return [self.generate(r.messages, r.params, choices=r.choices, on_token=request_stream(r, i, on_token),
                              cancel=cancel) for i, r in enumerate(requests)]


@pytest.fixture(scope="module")
def llm():
    generator = open_generator("llamacpp", n_ctx=2048, n_threads=2)
    yield generator
    generator.close()


@pytest.mark.model
def test_second_batch_run_costs_no_tokens_and_writes_the_same_letter(tmp_path, monkeypatch):
    from docgen.llm.llamacpp import LlamaCppGenerator

    spent = []
    real = LlamaCppGenerator._run  # generate and generate_many both decode through it

    def counted(self, *a, **kw):
        gens = real(self, *a, **kw)
        spent.extend(g.evaluated_tokens + g.tokens for g in gens)
        return gens

    monkeypatch.setattr(LlamaCppGenerator, "_run", counted)
    data = tmp_path / "one.csv"
    lines = resolve("service-reply").sample_data.read_text(encoding="utf-8").splitlines()
    data.write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    args = ["--template", "service-reply", "--data", str(data), "--candidates", "1", "-q"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert sum(spent) > 50
    spent.clear()
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert spent == []  # the model was not asked at all: 0 prompt tokens read, 0 generated

    [first] = (tmp_path / "a").glob("*.docx")
    [second] = (tmp_path / "b").glob("*.docx")
    assert read_back(first).text == read_back(second).text and "ticket" in read_back(second).text.lower()
    one = read_sidecar(first)["sections"][0]
    two = read_sidecar(second)["sections"][0]
    assert one["cached"] is False and one["tokens"] > 0
    assert two["cached"] is True and two["tokens"] == 0 and two["prompt_tokens"] == 0
    report = json.loads((tmp_path / "b" / "docgen-report.json").read_text(encoding="utf-8"))
    assert report["documents"][0]["sections"][0]["cached"] is True
    assert report["documents"][0]["tokens"] == 0
    from docgen.provenance import format_inspection, inspection
    from docgen.render import read_provenance

    shown = format_inspection(inspection(second, read_provenance(second), read_sidecar(second)))
    assert "0 (cached)" in shown  # docgen inspect

    # --no-cache: the model writes the letter again (same seed, so the same text)
    assert main([*args, "--out", str(tmp_path / "c"), "--no-cache"]) == 0
    assert sum(spent) > 50
    [third] = (tmp_path / "c").glob("*.docx")
    assert read_sidecar(third)["sections"][0]["cached"] is False
    assert read_back(third).text == read_back(first).text


@pytest.mark.model
@pytest.mark.xfail(condition=_details_layout(), strict=True,
                   reason="every field is still in every prompt ('Details:' block); passes once the prompt layout "
                   "names a field only where a prompt uses it")
def test_a_changed_field_rewrites_only_the_sections_whose_prompt_names_it(llm, tmp_path):
    counting = Counting(llm)
    gen = CachedGenerator(counting, SectionCache(tmp_path / "c.sqlite3"), model_identity(llm))
    spec = load_manifest(tiny_template(tmp_path / "tpl"))
    dataset = load_dataset(tiny_data(tmp_path))
    options = RunOptions(seed=3, candidates=1)
    first = generate(DocumentJob(spec, dataset, {"company": "Northwind"}), gen, tmp_path / "1.docx", options=options)
    signer = generate(DocumentJob(spec, dataset, {"company": "Northwind", "signer": "Bo"}), gen,
                      tmp_path / "2.docx", options=options)
    assert [s.cached for s in signer.sections] == [True, True]  # no prompt names the signer
    assert "Signed: Bo" in read_back(tmp_path / "2.docx").text
    calls = counting.calls
    company = generate(DocumentJob(spec, dataset, {"company": "Contoso"}), gen, tmp_path / "3.docx", options=options)
    by_id = {s.id: s for s in company.sections}
    assert not by_id["intro"].cached and by_id["outlook"].cached
    assert counting.calls == calls + 1
    assert by_id["outlook"].text == {s.id: s for s in first.sections}["outlook"].text


@pytest.mark.model
def test_a_changed_prompt_or_seed_misses_and_a_hit_streams_the_text_at_once(llm, tmp_path):
    counting = Together(llm)
    gen = with_cache(counting, path=tmp_path / "c.sqlite3")
    assert isinstance(gen, CachedGenerator) and gen.name == llm.name and gen.backend == "llamacpp"
    ask = [Message("system", "You are brief."), Message("user", "Name a colour.")]
    params = GenerationParams(max_tokens=12, temperature=0.7, seed=1)
    requests = [Request(ask, params), Request(ask, GenerationParams(max_tokens=12, temperature=0.7, seed=2))]
    cold = generate_all(gen, requests)
    assert counting.batches == [2] and not any(g.cached for g in cold)  # both misses in one call
    streamed: list[tuple[int, str]] = []
    warm = generate_all(gen, [*requests, Request(ask, GenerationParams(max_tokens=12, temperature=0.7, seed=9))],
                        on_token=lambda i, piece: streamed.append((i, piece)))
    assert counting.batches == [2, 1]  # only the new seed reached the model
    assert [g.text for g in warm[:2]] == [g.text for g in cold] and warm[0].cached and warm[1].cached
    assert warm[0].tokens == warm[0].prompt_tokens == warm[0].evaluated_tokens == 0
    assert not warm[2].cached and warm[2].tokens > 0
    assert (0, cold[0].text) in streamed and (1, cold[1].text) in streamed  # a hit arrives whole
    pieces: list[str] = []
    again = gen.generate(ask, params, on_token=pieces.append)
    assert again.cached and pieces == [cold[0].text]
    other = gen.generate([ask[0], Message("user", "Name a fruit.")], params)
    assert not other.cached


def test_fakes_and_servers_are_not_cached_unless_asked(tmp_path):
    fake = FakeGenerator("Hello there.")
    assert with_cache(fake) is fake  # orchestration tests see every call
    fake.cache_identity = "scripted"
    gen = with_cache(fake)
    params = GenerationParams(seed=1)
    ask = [Message("user", "Hi")]
    assert not gen.generate(ask, params).cached
    assert gen.generate(ask, params).cached and len(fake.calls) == 1
    assert cache_file().is_file()  # in the user cache directory (DOCGEN_HOME in tests)
    assert with_cache(FakeGenerator(), enabled=False).__class__ is FakeGenerator


def test_a_failed_or_cancelled_generation_is_not_stored(tmp_path):
    from docgen.cancel import CancelToken
    from docgen.errors import Cancelled

    fake = FakeGenerator("Some words here.", fail_on="boom", delay=0.01)
    fake.cache_identity = "scripted"
    store = SectionCache(tmp_path / "c.sqlite3")
    gen = CachedGenerator(fake, store, "scripted")
    with pytest.raises(RuntimeError):
        gen.generate([Message("user", "boom")], GenerationParams())
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        gen.generate([Message("user", "fine")], GenerationParams(), cancel=token)
    assert store.stats() == (0, 0)


def test_size_bound_evicts_the_least_recently_used(tmp_path):
    store = SectionCache(tmp_path / "c.sqlite3", max_bytes=10_000)
    text = "x" * 2000
    for key in ("a", "b", "c", "d"):
        store.put_many([(key, {"text": text + key})])
        time.sleep(0.002)
    assert store.get_many(["a"])[0]["text"].endswith("a")  # a is used again: b is now the oldest use
    time.sleep(0.002)
    store.put_many([("e", {"text": text + "e"})])  # 5 x ~2.2 kB > 10 kB: evict down to 9 kB (one entry)
    kept = [k for k, r in zip("abcde", store.get_many(list("abcde")), strict=True) if r is not None]
    assert kept == ["a", "c", "d", "e"]  # b went: written before c, d, e and not used since
    entries, size = store.stats()
    assert entries == 4 and size <= 9_000
    store.max_bytes = 5_000
    store.put_many([("f", {"text": "small"})])
    assert [k for k, r in zip("acdef", store.get_many(list("acdef")), strict=True) if r is not None] == ["e", "f"]


WRITER = textwrap.dedent("""
    import sys
    from docgen.cache import SectionCache
    store = SectionCache(sys.argv[1], max_bytes=10**9)
    for i in range(150):
        store.put_many([(f"{sys.argv[2]}-{i}", {"text": f"reply {i} of {sys.argv[2]}" * 20})])
        assert store.get_many([f"{sys.argv[2]}-{i}"])[0] is not None
""")


def test_two_processes_write_at_once_without_corrupting_it(tmp_path):
    path = tmp_path / "shared.sqlite3"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name], stderr=subprocess.PIPE)
             for name in ("one", "two")]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    store = SectionCache(path)
    assert store.stats()[0] == 300
    replies = store.get_many([f"{n}-{i}" for n in ("one", "two") for i in range(150)])
    assert all(r is not None for r in replies) and replies[-1]["text"].startswith("reply 149 of two")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_an_unreadable_cache_file_is_set_aside(tmp_path):
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store = SectionCache(path)
    assert store.get_many(["k"]) == [None]
    store.put_many([("k", {"text": "kept"})])
    assert store.get_many(["k"])[0]["text"] == "kept"
    assert (tmp_path / "c.sqlite3.broken").read_bytes().startswith(b"this is not")


def test_the_key_covers_model_messages_parameters_and_format():
    ask = [Message("user", "Hi")]
    base = request_key("m", ask, GenerationParams())
    assert base == request_key("m", list(ask), GenerationParams())
    assert len({base, request_key("other", ask, GenerationParams()),
                request_key("m", [Message("system", "Hi")], GenerationParams()),
                request_key("m", ask, GenerationParams(seed=43)),
                request_key("m", ask, GenerationParams(max_tokens=10)),
                request_key("m", ask, GenerationParams(), choices=("yes", "no")),
                request_key("m", ask, GenerationParams(), schema={"type": "object"})}) == 7


def test_a_cached_choice_keeps_its_scores_so_choice_bias_picks_the_same(llm, tmp_path):
    """A per-row choice read from the cache carries the calibrated scores a fresh run had: with a
    ``choice_bias`` the section picks the same label whether the model ran or not."""
    from docgen.sections.choice import pick_choice

    gen = with_cache(llm, path=tmp_path / "c.sqlite3")
    ask = [Message("system", "Answer with one word."), Message("user", "Is 'great product, love it' positive, "
                                                                      "neutral or negative?")]
    request = Request(ask, GenerationParams(max_tokens=4, temperature=0.0, seed=1),
                      choices=("positive", "neutral", "negative"))
    cold, = generate_all(gen, [request])
    warm, = generate_all(gen, [request])
    assert not cold.cached and warm.cached
    assert cold.scores and warm.scores == cold.scores
    section = SectionSpec("mood", "Mood", "Classify.", format="choice", choices=request.choices,
                          choice_bias=(("neutral", 1.0),))
    assert pick_choice(section, warm) == pick_choice(section, cold)
