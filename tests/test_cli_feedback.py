"""What the batch CLI tells the user during and after a run: progress when stderr is not a terminal (a log file,
a script, CI) as plain throttled lines that say the run works and how far it got, nothing with -q; and the
sections the model cut off at max_tokens, named in the summary."""

from __future__ import annotations

import io
from pathlib import Path

from docgen.cli import main
from docgen.cli.progress import QUIET_FOR, BatchProgress
from docgen.model import ProgressEvent

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "templates" / "service-reply" / "sample.csv"


def test_a_batch_run_off_a_terminal_prints_progress_lines_and_q_silences_them(tmp_path, capsys):
    args = ["--template", "service-reply", "--data", str(SAMPLE), "--backend", "fake", "--no-cache"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "docgen: writing 8 document(s)" in err
    assert "[8/8] done: " in err  # the last document is always reported
    assert main(args + ["--out", str(tmp_path / "b"), "-q"]) == 0
    assert "writing 8 document(s)" not in capsys.readouterr().err


def test_a_slow_section_is_named_and_fast_documents_are_throttled():
    now = [0.0]
    out = io.StringIO()
    progress = BatchProgress("lines", out, clock=lambda: now[0])
    progress(ProgressEvent("run_started", documents=3))
    now[0] = QUIET_FOR + 1  # a first run on the CPU: minutes before anything is done
    progress(ProgressEvent("section_started", section_id="body"))
    now[0] += 1
    progress(ProgressEvent("document_done", document=0, documents=3, path=Path("reply-1.docx")))  # 1 s later
    progress(ProgressEvent("document_failed", document=1, documents=3, text="row 3: no column 'comment'"))
    progress(ProgressEvent("document_done", document=2, documents=3, path=Path("reply-3.docx")))
    lines = out.getvalue().splitlines()
    assert lines[1] == "docgen: [1/3] writing section 'body' (11 s so far)"
    assert not any("reply-1.docx" in line for line in lines)  # within 5 s of the last line: not repeated
    assert "docgen: [2/3] failed: row 3: no column 'comment'" in lines
    assert lines[-1] == "docgen: [3/3] done: reply-3.docx (12 s so far)"


def test_sections_cut_at_max_tokens_are_named_in_the_summary(tmp_path, capsys, monkeypatch):
    import docgen.llm.fake as fake

    # longer than the letter body's max_tokens (220): the fake stops there, as a model does
    monkeypatch.setattr(fake, "DEFAULT_REPLY", " ".join(["We are sorry about the delay."] * 60))
    code = main(["--template", "service-reply", "--data", str(SAMPLE), "--backend", "fake", "--no-cache", "-q",
                 "--out", str(tmp_path)])
    assert code == 0
    err = capsys.readouterr().err
    assert "the model stopped at max_tokens in 8 section(s)" in err
    assert "reply-" in err and "section 'body'" in err and "raise max_tokens" in err


def test_a_section_the_model_writes_for_long_says_so_every_ten_seconds_with_its_tokens():
    now = [0.0]
    out = io.StringIO()
    progress = BatchProgress("lines", out, clock=lambda: now[0])
    progress(ProgressEvent("run_started", documents=1))
    progress(ProgressEvent("section_started", section_id="body"))  # at once: no line yet
    for tokens in range(1, 40):  # one token every 0.8 s, for 31 s
        now[0] += 0.8
        progress(ProgressEvent("token", section_id="body", tokens=tokens))
    lines = out.getvalue().splitlines()[1:]
    assert lines == ["docgen: [1/1] writing section 'body' (13 tokens, 10 s so far)",
                     "docgen: [1/1] writing section 'body' (26 tokens, 21 s so far)",
                     "docgen: [1/1] writing section 'body' (39 tokens, 31 s so far)"]


def test_a_dry_run_says_it_checks_rather_than_writes(tmp_path, capsys):
    assert main(["--template", "service-reply", "--data", str(SAMPLE), "--backend", "fake", "--dry-run",
                 "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "docgen: checking 8 document(s)" in err and "writing 8" not in err
