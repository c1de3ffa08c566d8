"""``--map template_column=data_column``: a template reads a differently named column (Word's Match Fields),
tried on the real Amazon Alexa reviews (``verified_reviews`` for the template's ``comment``)."""

from __future__ import annotations

from docgen.cli import main
from docgen.render import Table, read_back


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_without_map_the_column_is_missing(realdata, tmp_path, capsys):
    code, _out, err = run(capsys, "--template", "sentiment-report", "--data",
                          str(realdata / "text" / "amazon_alexa.tsv"), "--out", str(tmp_path / "out"),
                          "--backend", "fake", "--dry-run")
    assert code == 2 and "no column 'comment'" in err


def test_map_reads_verified_reviews_as_comment_over_the_whole_file(realdata, tmp_path, capsys):
    code, out, err = run(capsys, "--template", "sentiment-report", "--data",
                         str(realdata / "text" / "amazon_alexa.tsv"), "--out", str(tmp_path / "out"),
                         "--backend", "fake", "--dry-run", "--map", "comment=verified_reviews")
    assert code == 0, err
    assert "Would write 1 document(s)" in out


def test_map_in_a_written_document(realdata, tmp_path, capsys):
    lines = (realdata / "text" / "amazon_alexa.tsv").read_text(encoding="utf-8-sig").splitlines()
    small = tmp_path / "alexa.tsv"
    small.write_text("\n".join(lines[:13]) + "\n", encoding="utf-8")
    code, _out, err = run(capsys, "--template", "sentiment-report", "--data", str(small), "--out",
                          str(tmp_path / "out"), "--backend", "fake", "--map", "comment=verified_reviews")
    assert code == 0, err
    document = read_back(next((tmp_path / "out").glob("*.docx")))
    appendix = [b for b in document if isinstance(b, Table)][-1]
    assert appendix.rows[1][1] == "Love my Echo!" and len(appendix.rows) == 13  # header + 12 reviews


def test_map_to_a_column_the_file_lacks_names_the_closest(realdata, tmp_path, capsys):
    code, _out, err = run(capsys, "--template", "sentiment-report", "--data",
                          str(realdata / "text" / "amazon_alexa.tsv"), "--out", str(tmp_path / "out"),
                          "--backend", "fake", "--dry-run", "--map", "comment=verified_review")
    assert code == 2
    assert "--map comment=verified_review" in err and "closest: 'verified_reviews'" in err


def test_map_needs_both_names(tmp_path, capsys):
    import pytest

    with pytest.raises(SystemExit) as exit_:
        main(["--template", "sentiment-report", "--data", "x.csv", "--out", str(tmp_path), "--map", "comment="])
    assert exit_.value.code == 2
    assert "--map expects TEMPLATE_COLUMN=DATA_COLUMN" in capsys.readouterr().err
