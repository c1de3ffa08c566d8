"""Batch mode through a real OpenAI-compatible server on loopback (llama-cpp-python's server with the embedded
model): --jobs gives the same documents as one at a time, and a server that stops mid-batch gives retried, then
reported failures (no crash, no lost rows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docgen.batch import run_batch
from docgen.cli import main
from docgen.llm import open_generator
from docgen.provenance import comparable, read_sidecar
from docgen.render import read_back
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve
from tests.openai_servers import llama_server, start_llama_server

pytestmark = [pytest.mark.model, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "templates" / "service-reply" / "sample.csv"


@pytest.fixture
def tickets(tmp_path) -> Path:
    """The first four tickets of the bundled sample (CI has two cores: keep the model work small)."""
    path = tmp_path / "tickets.csv"
    path.write_text("".join(SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)[:5]), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server():
    with llama_server() as srv:
        yield srv


def documents(folder: Path) -> dict[str, tuple[str, dict]]:
    """file name -> (body text read back from the .docx, sidecar without timings)."""
    return {p.name: (read_back(p).text, comparable(read_sidecar(p))) for p in sorted(folder.glob("*.docx"))}


def test_jobs_4_writes_the_same_documents_as_one_at_a_time(server, tickets, tmp_path, capsys):
    runs = {}
    for jobs in ("1", "4"):
        out = tmp_path / f"jobs{jobs}"
        code = main(["-t", "service-reply", "-d", str(tickets), "-o", str(out), "--backend", "openai",
                     "--base-url", server.url, "--jobs", jobs, "-q"])
        assert code == 0, capsys.readouterr().err
        runs[jobs] = out
    one, four = documents(runs["1"]), documents(runs["4"])
    assert len(one) == 4 and one == four
    text, side = next(iter(one.values()))
    assert "ticket" in text.lower() or len(text) > 100  # a real letter, not a placeholder
    props = side["properties"]
    assert props["backend"] == "openai" and props["server_url"] == server.url
    assert props["server_model"].endswith(".gguf") and props["model_file"] == props["server_model"]
    reports = [json.loads((runs[j] / "docgen-report.json").read_text(encoding="utf-8")) for j in ("1", "4")]
    assert [d["file"] for d in reports[0]["documents"]] == [d["file"] for d in reports[1]["documents"]]
    assert [d["row"] for d in reports[1]["documents"]] == sorted(d["row"] for d in reports[1]["documents"])


def test_server_stopped_mid_batch_gives_retried_then_reported_failures(tickets, tmp_path):
    srv = start_llama_server()
    try:
        generator = open_generator("openai", base_url=srv.url, concurrency=2, retries=2, backoff=0.2)
        done = []

        def on_event(event):
            if event.kind == "document_done":
                done.append(event.document)
                if len(done) == 1:
                    srv.stop()  # the server goes away with documents still to write

        report = run_batch(resolve("service-reply"), load_dataset(tickets), generator, tmp_path / "out",
                           on_event=on_event, width=2)
        generator.close()
    finally:
        srv.stop()
    assert len(report.documents) == 4 and not report.cancelled  # every row is in the report
    ok = [d for d in report.documents if d.ok]
    failed = report.failed
    assert len(ok) >= 1 and failed and all(d.path.is_file() for d in ok)
    for d in failed:
        assert srv.url in d.error and "after 3 tries" in d.error and "cannot connect" in d.error
        assert f"row {d.row} of tickets.csv" in d.error
    saved = json.loads((tmp_path / "out" / "docgen-report.json").read_text(encoding="utf-8"))
    assert saved["failed"] == len(failed) and saved["written"] == len(ok)
    assert not list((tmp_path / "out").glob(".~docgen-*"))
