"""Batch resume, journal, stale temp files and shards (scripted fake backend; the real-server versions of the
kill -9 and shard runs are in test_server_batch.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from docgen.batch import run_batch
from docgen.cli import main
from docgen.errors import DocgenError
from docgen.journal import STALE_SECONDS, parse_shard, read_journal
from docgen.llm.fake import FakeGenerator
from docgen.pipeline import RunOptions
from docgen.render import read_back
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve


def tickets(tmp_path: Path, rows: list[tuple[str, str]]) -> Path:
    path = tmp_path / "tickets.csv"
    path.write_text("ticket_id,comment\n" + "".join(f"{t},{c}\n" for t, c in rows), encoding="utf-8")
    return path


ROWS = [(f"T{i}", f"problem {i}") for i in range(1, 6)]


def batch(data: Path, out: Path, **kw):
    kw.setdefault("options", RunOptions(seed=1))
    return run_batch(resolve("service-reply"), load_dataset(data), FakeGenerator(), out, **kw)


def test_rerun_skips_what_is_written_and_redoes_changed_rows(tmp_path):
    data, out = tickets(tmp_path, ROWS), tmp_path / "out"
    first = batch(data, out)
    assert [d.skipped for d in first.documents] == [False] * 5
    stamp = {p.name: p.stat().st_mtime_ns for p in out.glob("*.docx")}
    again = batch(data, out)
    assert [d.skipped for d in again.documents] == [True] * 5 and not again.replaced
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.docx")} == stamp  # not rewritten
    rows = [ROWS[0], ("T2", "a different complaint"), *ROWS[2:]]
    changed = batch(tickets(tmp_path, rows), out)
    assert [d.skipped for d in changed.documents] == [True, False, True, True, True]
    assert changed.replaced == ("reply-T2.docx",)
    other_seed = batch(data, out, options=RunOptions(seed=2))
    assert not any(d.skipped for d in other_seed.documents)
    forced = batch(data, out, options=RunOptions(seed=2), force=True)
    assert not any(d.skipped for d in forced.documents) and len(forced.replaced) == 5
    saved = json.loads((out / "docgen-report.json").read_text(encoding="utf-8"))
    assert saved["written"] == 5 and saved["skipped"] == 0 and sorted(p.name for p in out.glob("*.docx")) == [
        f"reply-T{i}.docx" for i in range(1, 6)]  # no duplicates, no "(2)"
    assert not (out / "docgen-journal.jsonl").exists()  # the report replaced the journal


def test_cli_says_how_many_it_skipped(tmp_path, capsys):
    data, out = tickets(tmp_path, ROWS[:2]), tmp_path / "out"
    args = ["-t", "service-reply", "-d", str(data), "-o", str(out), "--backend", "fake", "-q"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "Wrote 0 document(s)" in printed and "Skipped 2 document(s)" in printed and "--force" in printed


def test_a_document_without_its_sidecar_is_made_again(tmp_path):
    data, out = tickets(tmp_path, ROWS[:2]), tmp_path / "out"
    batch(data, out)
    (out / "reply-T1.provenance.json").unlink()  # killed between the .docx and its sidecar
    again = batch(data, out)
    assert [d.skipped for d in again.documents] == [False, True]


def test_stale_temp_files_are_removed_unless_another_run_may_own_them(tmp_path):
    import fcntl

    data, out = tickets(tmp_path, ROWS[:1]), tmp_path / "out"
    out.mkdir()
    stale = out / ".~docgen-abc123.tmp"
    stale.write_bytes(b"")  # what a SIGKILL during a write leaves
    report = batch(data, out)
    assert not stale.exists() and report.stale_removed == 1
    # another run (another shard) holds the folder: a fresh temp file may be its write in progress
    fd = os.open(out / ".docgen-batch.lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        fresh, old = out / ".~docgen-fresh.tmp", out / ".~docgen-old.tmp"
        fresh.write_bytes(b"")
        old.write_bytes(b"")
        past = time.time() - STALE_SECONDS - 60
        os.utime(old, (past, past))
        batch(data, out, force=True)
        assert fresh.exists() and not old.exists()
    finally:
        os.close(fd)


def test_sigkill_leaves_a_journal_of_what_finished_and_a_rerun_completes_the_batch(tmp_path):
    rows = [(f"T{i}", f"problem {i}") for i in range(1, 9)]
    data, out = tickets(tmp_path, rows), tmp_path / "out"
    script = ("import sys\nfrom docgen.batch import run_batch\nfrom docgen.llm.fake import FakeGenerator\n"
              "from docgen.sources import load_dataset\nfrom docgen.templates.catalog import resolve\n"
              "from docgen.pipeline import RunOptions\n"
              "run_batch(resolve('service-reply'), load_dataset(sys.argv[1]), FakeGenerator(delay=0.05), "
              "__import__('pathlib').Path(sys.argv[2]), options=RunOptions(seed=1))\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(data), str(out)])
    journal = out / "docgen-journal.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.exists() and len(read_journal(journal)[1]) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    header, entries = read_journal(journal)
    assert header["template"] == "service-reply" and header["total"] == 8
    assert 2 <= len(entries) < 8 and all(e["ok"] for e in entries)
    assert not (out / "docgen-report.json").exists()
    again = batch(data, out)
    assert len(again.documents) == 8 and all(d.ok for d in again.documents)
    assert sum(d.skipped for d in again.documents) >= len(entries)
    assert sorted(p.name for p in out.glob("*.docx")) == sorted(f"reply-T{i}.docx" for i in range(1, 9))
    assert not list(out.glob(".~docgen-*")) and not journal.exists()
    for p in out.glob("*.docx"):
        assert "Customer Care" in read_back(p).text or read_back(p).text  # every file is a readable document


def test_shards_plus_merge_equal_one_full_run(tmp_path, capsys):
    rows = [(f"T{i}", f"problem {i}") for i in range(1, 8)] + [("T1", "same id again")]
    data = tickets(tmp_path, rows)
    full, shared = tmp_path / "full", tmp_path / "shared"
    base = ["-t", "service-reply", "-d", str(data), "--backend", "fake", "-q"]
    assert main([*base, "-o", str(full)]) == 0
    assert main([*base, "-o", str(shared), "--shard", "1/2"]) == 0
    assert main([*base, "-o", str(shared), "--shard", "2/2"]) == 0
    capsys.readouterr()
    assert main(["report", "merge", str(shared)]) == 0
    assert "Merged 2 report(s)" in capsys.readouterr().out
    names = sorted(p.name for p in full.glob("*.docx"))
    assert names == sorted(p.name for p in shared.glob("*.docx")) and "reply-T1 (2).docx" in names
    for name in names:
        assert read_back(full / name).text == read_back(shared / name).text

    def plain(report: dict) -> list:
        return [{k: v for k, v in d.items() if k != "seconds" and not k.startswith("pdf")} |
                {"sections": [{k: v for k, v in s.items() if k != "seconds"} for s in d["sections"]]}
                for d in report["documents"]]

    one = json.loads((full / "docgen-report.json").read_text(encoding="utf-8"))
    merged = json.loads((shared / "docgen-report.json").read_text(encoding="utf-8"))
    assert plain(one) == plain(merged) and merged["missing"] == [] and merged["written"] == 8


def test_merge_names_a_missing_shard(tmp_path, capsys):
    data, out = tickets(tmp_path, ROWS), tmp_path / "out"
    assert main(["-t", "service-reply", "-d", str(data), "--backend", "fake", "-q", "-o", str(out),
                 "--shard", "2/3"]) == 0
    capsys.readouterr()
    assert main(["report", "merge", str(out)]) == 1
    err = capsys.readouterr().err
    assert "3 document(s) are in no report" in err and "run the missing shard" in err


@pytest.mark.parametrize("text", ["0/4", "5/4", "2", "a/b", "2/0"])
def test_bad_shard_is_refused_with_the_rule(text):
    with pytest.raises(DocgenError, match="K from 1 to N"):
        parse_shard(text)
    assert parse_shard(" 3 / 4 ").takes(2) and not parse_shard("3/4").takes(3)
