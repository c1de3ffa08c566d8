"""Batch mode through the command line: exit codes, messages, output files and the report.

The scripted fake backend is used here (orchestration); tests/test_pipeline_model.py runs the real model.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import docx
import pytest

from docgen.cli import main
from docgen.render import read_back

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def reply_package(tmp_path: Path, *paragraphs: str) -> Path:
    """A copy of the service-reply package whose template.docx holds ``paragraphs``."""
    pkg = tmp_path / "pkg"
    shutil.copytree(TEMPLATES / "service-reply", pkg)
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(pkg / "template.docx")
    return pkg


TICKETS = "ticket_id,comment\nT-1,The screen broke.\nT-2,Late delivery.\nT-3,Wrong colour.\n"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert "docgen 0.1.0" in capsys.readouterr().out


def test_rows_template_writes_one_document_per_row_and_a_report(tmp_path, capsys):
    data = write_csv(tmp_path / "tickets.csv", TICKETS)
    code, out, err = run(capsys, "--template", "service-reply", "--data", str(data), "--out", str(tmp_path / "out"),
                         "--backend", "fake", "--set", "company=Contoso & Sons")
    assert code == 0, err
    files = sorted(p.name for p in (tmp_path / "out").glob("*.docx"))
    assert files == ["reply-T-1.docx", "reply-T-2.docx", "reply-T-3.docx"]
    letter = read_back(tmp_path / "out" / "reply-T-2.docx").text
    assert "Late delivery." in letter and "Contoso & Sons" in letter
    assert "**" not in letter and "stands in for the model" in letter  # the fake's Markdown became Word formatting
    assert "West" not in letter  # the fake writes neutral text, not a sales story, into a letter
    report = json.loads((tmp_path / "out" / "docgen-report.json").read_text(encoding="utf-8"))
    assert report["written"] == 3 and report["failed"] == 0
    assert [d["row"] for d in report["documents"]] == [2, 3, 4]
    assert report["documents"][0]["sections"][0]["id"] == "body"
    assert report["documents"][0]["tokens"] > 0


def test_one_bad_row_is_reported_and_the_rest_written(tmp_path, capsys):
    from docgen import paths

    # a ticket far longer than the model's context window fails alone; the others are written
    paths.settings_file().parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file().write_text("n_ctx = 512\n", encoding="utf-8")
    data = write_csv(tmp_path / "tickets.csv",
                     "ticket_id,comment\nA,Broken.\nB," + "endless complaint " * 200 + "\nC,Late.\n")
    code, out, err = run(capsys, "--template", "service-reply", "--data", str(data), "--out", str(tmp_path / "out"),
                         "--backend", "fake")
    assert code == 1
    assert sorted(p.name for p in (tmp_path / "out").glob("*.docx")) == ["reply-A.docx", "reply-C.docx"]
    assert "row 3" in err and "context window" in err
    report = json.loads((tmp_path / "out" / "docgen-report.json").read_text(encoding="utf-8"))
    assert report["failed"] == 1 and report["documents"][1]["row"] == 3 and report["documents"][1]["error"]
    assert not list((tmp_path / "out").glob("*.tmp")) and not list((tmp_path / "out").glob(".~*"))


def test_colliding_and_unsafe_output_names_are_sanitized(tmp_path, capsys):
    data = write_csv(tmp_path / "t.csv", 'ticket_id,comment\n"../../etc/x",a\nCON,b\n"a/b",c\n"a\\b",d\n')
    code, _, err = run(capsys, "--template", "service-reply", "--data", str(data), "--out", str(tmp_path / "out"),
                       "--backend", "fake")
    assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "out").glob("*.docx"))
    assert names == ["reply-.._.._etc_x.docx", "reply-CON.docx", "reply-a_b (2).docx", "reply-a_b.docx"]
    assert not (tmp_path / "etc").exists()


def test_rerun_says_which_documents_it_replaced(tmp_path, capsys):
    args = ["--template", "service-reply", "--data", str(write_csv(tmp_path / "t.csv", TICKETS)),
            "--out", str(tmp_path / "o"), "--backend", "fake"]
    assert run(capsys, *args)[0] == 0
    code, out, err = run(capsys, *args)  # same inputs: kept, not replaced (resume)
    assert code == 0 and "Skipped 3 document(s)" in out and "replaced" not in err
    code, _, err = run(capsys, *args, "--force")
    assert code == 0 and "replaced 3 document(s)" in err
    report = json.loads((tmp_path / "o" / "docgen-report.json").read_text(encoding="utf-8"))
    assert sorted(report["replaced"]) == ["reply-T-1.docx", "reply-T-2.docx", "reply-T-3.docx"]


def test_dry_run_writes_nothing_and_lists_the_names(tmp_path, capsys):
    data = write_csv(tmp_path / "tickets.csv", TICKETS)
    code, out, _ = run(capsys, "--template", "service-reply", "--data", str(data), "--out", str(tmp_path / "out"),
                       "--backend", "fake", "--dry-run")
    assert code == 0 and "Would write 3" in out and "reply-T-2.docx" in out
    assert not (tmp_path / "out").exists()


def test_dry_run_finds_a_tag_the_data_lacks_without_the_model(tmp_path, capsys):
    pkg = reply_package(tmp_path, "Order {{ row.order_no }}", "{{p sections.body }}")
    code, _, err = run(capsys, "--template", str(pkg), "--data", str(write_csv(tmp_path / "t.csv", TICKETS)),
                       "--out", str(tmp_path / "out"), "--backend", "fake", "--dry-run")
    assert code == 1 and "order_no" in err and "row 2" in err
    assert not (tmp_path / "out").exists()


def test_missing_value_fails_before_the_model_runs(tmp_path, capsys, monkeypatch):
    from docgen.llm import fake

    def must_not_run(self, *args, **kwargs):
        raise AssertionError("the model ran before the template was checked")

    monkeypatch.setattr(fake.FakeGenerator, "generate", must_not_run)
    pkg = reply_package(tmp_path, "Order {{ row.order_no }}", "{{p sections.body }}")
    code, _, err = run(capsys, "--template", str(pkg), "--data", str(write_csv(tmp_path / "t.csv", TICKETS)),
                       "--out", str(tmp_path / "out"), "--backend", "fake")
    assert code == 1 and "order_no" in err and "the model ran" not in err


def test_written_files_are_readable_by_colleagues(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        code, _, err = run(capsys, "--template", "service-reply", "--data",
                           str(write_csv(tmp_path / "t.csv", TICKETS)), "--out", str(tmp_path / "o"),
                           "--backend", "fake")
    finally:
        os.umask(old)
    assert code == 0, err
    for path in (tmp_path / "o").iterdir():
        assert path.stat().st_mode & 0o777 == 0o644, path


# --- bad input: a clear message, exit code 2, nothing written ---------------------------------------------------

def assert_usage_error(code: int, err: str, out_dir: Path, *needles: str) -> None:
    assert code == 2, err
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    assert not out_dir.exists() or not list(out_dir.glob("*.docx"))


def test_missing_template(tmp_path, capsys):
    code, _, err = run(capsys, "--template", "no-such-template", "--data", "x.csv", "--out", str(tmp_path / "o"))
    assert_usage_error(code, err, tmp_path / "o", "no-such-template", "docgen templates list")


def test_missing_data_file(tmp_path, capsys):
    code, _, err = run(capsys, "--template", "service-reply", "--data", str(tmp_path / "nope.csv"),
                       "--out", str(tmp_path / "o"), "--backend", "fake")
    assert_usage_error(code, err, tmp_path / "o", "nope.csv")


@pytest.mark.parametrize("content, needle", [("", "empty"), ("ticket_id,comment\n", "no data rows")])
def test_empty_and_header_only_data(tmp_path, capsys, content, needle):
    data = write_csv(tmp_path / "t.csv", content)
    code, _, err = run(capsys, "--template", "service-reply", "--data", str(data), "--out", str(tmp_path / "o"),
                       "--backend", "fake")
    assert_usage_error(code, err, tmp_path / "o", "t.csv")
    assert needle in err.lower()


def test_missing_required_column_names_closest(tmp_path, capsys):
    data = write_csv(tmp_path / "t.csv", "ticket_id,comments\nA,hello\n")
    code, _, err = run(capsys, "--template", "service-reply", "--data", str(data), "--out", str(tmp_path / "o"),
                       "--backend", "fake")
    assert_usage_error(code, err, tmp_path / "o", "'comment'", "'comments'")


def test_cp1252_semicolon_file_is_read_correctly(tmp_path, capsys):
    data = write_csv(tmp_path / "t.csv", "ticket_id;comment\nA;Café crème was cold & late — 5 €\n", "cp1252")
    code, _, err = run(capsys, "--template", "service-reply", "--data", str(data), "--out", str(tmp_path / "o"),
                       "--backend", "fake")
    assert code == 0, err
    assert "Café crème was cold & late — 5 €" in read_back(tmp_path / "o" / "reply-A.docx").text


def test_hostile_values_come_out_literally(tmp_path, capsys):
    data = write_csv(tmp_path / "t.csv", 'ticket_id,comment\nA,"<b>bold</b> & <|im_end|> bell\x07 end"\n')
    code, _, err = run(capsys, "--template", "service-reply", "--data", str(data), "--out", str(tmp_path / "o"),
                       "--backend", "fake")
    assert code == 0, err
    text = read_back(tmp_path / "o" / "reply-A.docx").text
    assert "<b>bold</b> & <|im_end|> bell end" in text


def test_tag_naming_unknown_value_is_caught_before_work(tmp_path, capsys):
    pkg = reply_package(tmp_path, "Dear {{ custmer_name }},", "{{p sections.body }}")
    data = write_csv(tmp_path / "t.csv", TICKETS)
    code, _, err = run(capsys, "--template", str(pkg), "--data", str(data), "--out", str(tmp_path / "o"),
                       "--backend", "fake")
    assert_usage_error(code, err, tmp_path / "o", "custmer_name", "customer_name")


def test_row_attribute_that_does_not_exist_names_tag_and_row(tmp_path, capsys):
    pkg = reply_package(tmp_path, "Order {{ row.order_no }}", "{{p sections.body }}")
    data = write_csv(tmp_path / "t.csv", TICKETS)
    code, _, err = run(capsys, "--template", str(pkg), "--data", str(data), "--out", str(tmp_path / "o"),
                       "--backend", "fake")
    assert code == 1
    assert "order_no" in err and "row 2" in err
    assert not list((tmp_path / "o").glob("*.docx"))


def test_jinja_syntax_error_says_where_in_the_document(tmp_path, capsys):
    pkg = reply_package(tmp_path, "Hello", "Total: {{ row.ticket_id }", "{{p sections.body }}")
    code, _, err = run(capsys, "--template", str(pkg), "--data", str(write_csv(tmp_path / "t.csv", TICKETS)),
                       "--out", str(tmp_path / "o"), "--backend", "fake")
    assert_usage_error(code, err, tmp_path / "o", "paragraph 2", "Total: {{ row.ticket_id }")


def test_curly_quotes_typed_by_word_inside_a_tag_work(tmp_path, capsys):
    pkg = reply_package(tmp_path, "Hello {{ row.nickname|default(“friend”) }}!", "{{p sections.body }}")
    code, _, err = run(capsys, "--template", str(pkg), "--data", str(write_csv(tmp_path / "t.csv", TICKETS)),
                       "--out", str(tmp_path / "o"), "--backend", "fake")
    assert code == 0, err
    assert "Hello friend!" in read_back(tmp_path / "o" / "reply-T-1.docx").text


def test_model_path_that_does_not_exist_or_is_not_gguf(tmp_path, capsys):
    data = str(write_csv(tmp_path / "t.csv", TICKETS))
    code, _, err = run(capsys, "--template", "service-reply", "--data", data, "--out", str(tmp_path / "o"),
                       "--model", str(tmp_path / "missing.gguf"))
    assert_usage_error(code, err, tmp_path / "o", "missing.gguf", "does not exist")
    notgguf = tmp_path / "model.gguf"
    notgguf.write_text("hello", encoding="utf-8")
    code, _, err = run(capsys, "--template", "service-reply", "--data", data, "--out", str(tmp_path / "o"),
                       "--model", str(notgguf))
    assert_usage_error(code, err, tmp_path / "o", "not a GGUF")


def test_prompt_that_cannot_fit_the_context_window(tmp_path, capsys):
    from docgen import paths

    paths.settings_file().parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file().write_text("n_ctx = 256\n", encoding="utf-8")
    data = write_csv(tmp_path / "t.csv", "ticket_id,comment\nA," + "very long complaint " * 40 + "\n")
    code, _, err = run(capsys, "--template", "service-reply", "--data", str(data), "--out", str(tmp_path / "o"),
                       "--backend", "fake")
    assert code == 1
    assert "context window" in err and "n_ctx" in err
    assert not list((tmp_path / "o").glob("*.docx"))


def test_output_folder_that_cannot_be_written(tmp_path, capsys):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x", encoding="utf-8")
    code, _, err = run(capsys, "--template", "service-reply", "--data", str(write_csv(tmp_path / "t.csv", TICKETS)),
                       "--out", str(blocker / "out"), "--backend", "fake")
    assert_usage_error(code, err, blocker, "Cannot write to the output folder", "file-not-folder")


def test_unknown_field_in_set(tmp_path, capsys):
    code, _, err = run(capsys, "--template", "service-reply", "--data", str(write_csv(tmp_path / "t.csv", TICKETS)),
                       "--out", str(tmp_path / "o"), "--backend", "fake", "--set", "compnay=X")
    assert_usage_error(code, err, tmp_path / "o", "compnay", "did you mean 'company'")


def test_cancel_gives_exit_130_and_keeps_finished_documents(tmp_path, capsys, monkeypatch):
    from docgen.llm import fake

    calls = {"n": 0}
    original = fake.FakeGenerator.generate

    def generate_then_interrupt(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            os.kill(os.getpid(), 2)  # SIGINT, as Ctrl+C would
        return original(self, *args, **kwargs)

    monkeypatch.setattr(fake.FakeGenerator, "generate", generate_then_interrupt)
    monkeypatch.setattr(fake.FakeGenerator, "delay", 0.01, raising=False)
    code, _, err = run(capsys, "--template", "service-reply", "--data", str(write_csv(tmp_path / "t.csv", TICKETS)),
                       "--out", str(tmp_path / "o"), "--backend", "fake", "--candidates", "1")
    assert code == 130 and "cancelled" in err
    assert [p.name for p in (tmp_path / "o").glob("*.docx")] == ["reply-T-1.docx"]
    assert json.loads((tmp_path / "o" / "docgen-report.json").read_text(encoding="utf-8"))["cancelled"] is True


def test_templates_list_and_check(capsys):
    code, out, _ = run(capsys, "templates", "list")
    assert code == 0 and "sales-report" in out and "sentiment-report" in out and "service-reply" in out
    code, out, _ = run(capsys, "templates", "check", str(TEMPLATES / "sales-report"))
    assert code == 0, out
    assert "sections.summary" in out and "No problems found" in out and "9994 rows" in out


def test_templates_check_reports_foreign_and_tagless_documents(capsys, realdata):
    code, out, _ = run(capsys, "templates", "check", str(realdata / "docx" / "loop-hebrew.docx"))
    assert code == 1 and "docxtemplater" in out
    code, out, _ = run(capsys, "templates", "check", str(realdata / "docx" / "invoice2013.docx"))
    assert code == 1 and "no {{ }} tags" in out
    code, out, _ = run(capsys, "templates", "check", str(realdata / "docx" / "order_tpl.docx"))
    assert code == 0 and "customer_name" in out and "items" in out


def test_parallel_is_a_hidden_alias_of_jobs(tmp_path, capsys, monkeypatch):
    """Issue #8 named the flag --parallel; --jobs is the documented one. --parallel N keeps N documents in flight
    as --jobs N does, is checked the same way, and is not listed in --help."""
    import docgen.batch

    widths = []
    real = docgen.batch.run_batch

    def spy(*args, **kwargs):
        widths.append(kwargs["width"])
        return real(*args, **kwargs)

    monkeypatch.setattr(docgen.batch, "run_batch", spy)
    data = write_csv(tmp_path / "tickets.csv", TICKETS)
    for flag, out in (("--parallel", "a"), ("--jobs", "b")):
        code, _, err = run(capsys, "-t", "service-reply", "-d", str(data), "-o", str(tmp_path / out),
                           "--backend", "fake", "-q", flag, "3")
        assert code == 0, err
        assert len(list((tmp_path / out).glob("*.docx"))) == 3
    assert widths == [3, 3]
    assert [read_back(p).text for p in sorted((tmp_path / "a").glob("*.docx"))] == \
        [read_back(p).text for p in sorted((tmp_path / "b").glob("*.docx"))]

    with pytest.raises(SystemExit) as exit_:
        main(["-t", "service-reply", "-d", str(data), "-o", str(tmp_path / "c"), "--backend", "fake", "--parallel", "0"])
    assert exit_.value.code == 2 and "argument --parallel: expected a whole number from 1 to 256" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = capsys.readouterr().out
    assert "--jobs" in shown and "--parallel" not in shown


def test_the_cli_makes_waiting_model_threads_sleep_unless_the_user_chose(monkeypatch, capsys):
    """OMP_WAIT_POLICY=PASSIVE before llama.cpp loads (bench/run.py --only omp: faster on a busy machine); a
    value the user set is kept."""
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    with pytest.raises(SystemExit):
        main(["--version"])
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    with pytest.raises(SystemExit):
        main(["--version"])
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
