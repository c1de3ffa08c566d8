"""docgen.toml validation: every error names the file, the key and the line."""

from __future__ import annotations

import re

import shutil
from pathlib import Path

import pytest

from docgen.errors import ManifestError, TemplateError, TemplateNotFound
from docgen.templates.catalog import load_package, resolve, scan
from docgen.templates.manifest import locate

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "templates"


def make_package(tmp_path: Path, manifest: str) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    shutil.copy(BUNDLED / "service-reply" / "template.docx", pkg / "template.docx")
    (pkg / "docgen.toml").write_text(manifest, encoding="utf-8")
    return pkg


GOOD = """[template]
id = "t1"
name = "T1"

[data]
mode = "rows"

[[fields]]
name = "company"
default = "ACME"

[[sections]]
id = "body"
prompt = "Write to {{ row.name }}."
"""


def test_bundled_templates_load_with_their_samples():
    ids = {e.spec.id: e.spec for e in scan() if e.spec}
    assert {"sales-report", "service-reply", "sentiment-report"} <= set(ids)
    for spec in ids.values():
        assert spec.docx.is_file()
        assert spec.sample_data is not None and spec.sample_data.is_file()
    assert ids["service-reply"].mode == "rows"
    sentiment = ids["sentiment-report"].sections[0]
    assert sentiment.per_row and sentiment.format == "choice"
    assert sentiment.choices == ("positive", "neutral", "negative")


def test_good_manifest_gives_defaults(tmp_path):
    spec = load_package(make_package(tmp_path, GOOD))
    assert spec.id == "t1" and spec.mode == "rows"
    assert spec.fields[0].label == "Company" and spec.fields[0].default == "ACME"
    assert spec.sections[0].format == "markdown" and spec.sections[0].title == "Body"


def test_wrong_type_names_key_and_line(tmp_path):
    bad = GOOD + '\n[[sections]]\nid = "second"\nprompt = "x"\nmax_tokens = "lots"\n'
    with pytest.raises(ManifestError) as err:
        load_package(make_package(tmp_path, bad))
    message = str(err.value)
    assert "docgen.toml" in message and "sections[1].max_tokens" in message
    assert err.value.line == bad.splitlines().index('max_tokens = "lots"') + 1
    assert f"line {err.value.line}" in message


def test_unknown_key_is_a_typo_error(tmp_path):
    bad = GOOD.replace('mode = "rows"', 'mode = "rows"\nreqired_columns = ["a"]')
    with pytest.raises(ManifestError) as err:
        load_package(make_package(tmp_path, bad))
    assert "reqired_columns" in str(err.value) and err.value.line == 7


def test_toml_syntax_error_has_line(tmp_path):
    with pytest.raises(ManifestError) as err:
        load_package(make_package(tmp_path, GOOD.replace('name = "T1"', 'name = "T1')))
    assert err.value.line == 3


def test_bad_jinja_in_prompt_is_reported_at_the_prompt(tmp_path):
    bad = GOOD.replace("{{ row.name }}", "{{ row.name }")
    with pytest.raises(ManifestError) as err:
        load_package(make_package(tmp_path, bad))
    assert "sections[0].prompt" in str(err.value) and "Jinja" in str(err.value)
    assert err.value.line == GOOD.splitlines().index('prompt = "Write to {{ row.name }}."') + 1


def test_choice_section_needs_choices(tmp_path):
    bad = GOOD + '\n[[sections]]\nid = "mood"\nformat = "choice"\nprompt = "?"\n'
    with pytest.raises(ManifestError, match="choices"):
        load_package(make_package(tmp_path, bad))


def test_choice_bias_is_read_and_its_keys_must_be_choices(tmp_path):
    mood = '\n[[sections]]\nid = "mood"\nformat = "choice"\nchoices = ["good", "meh", "bad"]\nprompt = "?"\n'
    spec = load_package(make_package(tmp_path, GOOD + mood + 'choice_bias = { meh = 0.4 }\n'))
    assert spec.sections[1].choice_bias == (("meh", 0.4),)
    shutil.rmtree(tmp_path / "pkg")
    with pytest.raises(ManifestError, match="'okay' is not one of this section's choices") as err:
        load_package(make_package(tmp_path, GOOD + mood + 'choice_bias = { okay = 0.4 }\n'))
    assert "sections[1].choice_bias" in str(err.value)
    shutil.rmtree(tmp_path / "pkg")
    with pytest.raises(ManifestError, match="only to a section of format 'choice'"):
        load_package(make_package(tmp_path, GOOD.replace('prompt = "Write', 'choice_bias = { a = 1 }\nprompt = "Write')))


def test_duplicate_ids_rejected(tmp_path):
    bad = GOOD + '\n[[sections]]\nid = "body"\nprompt = "again"\n'
    with pytest.raises(ManifestError, match="declared twice"):
        load_package(make_package(tmp_path, bad))


def test_missing_docx(tmp_path):
    pkg = make_package(tmp_path, GOOD)
    (pkg / "template.docx").unlink()
    with pytest.raises(ManifestError, match="template.docx"):
        load_package(pkg)


def test_resolve_unknown_id_suggests_closest():
    with pytest.raises(TemplateNotFound) as err:
        resolve("sales-reprot")
    assert "sales-report" in str(err.value) and "Did you mean" in str(err.value)


def test_resolve_bare_docx_explains_package(tmp_path):
    docx = tmp_path / "x.docx"
    shutil.copy(BUNDLED / "service-reply" / "template.docx", docx)
    with pytest.raises(TemplateError, match="docgen.toml"):
        resolve(str(docx))


def test_user_template_shadows_bundled(tmp_path):
    from docgen import paths

    user = paths.user_templates_dir() / "my-reply"
    shutil.copytree(BUNDLED / "service-reply", user)
    text = re.sub(r'(?m)^version = ".*"$', 'version = "9.9"', (user / "docgen.toml").read_text(encoding="utf-8"), count=1)
    (user / "docgen.toml").write_text(text, encoding="utf-8")
    spec = resolve("service-reply")
    assert spec.version == "9.9" and spec.source == "user"


def test_locate_finds_nth_array_table():
    text = '[template]\nid="x"\n[[sections]]\nid="a"\n[[sections]]\nid="b"\nmax_tokens=3\n'
    assert locate(text, ["sections", 1, "max_tokens"]) == 7
    assert locate(text, ["sections", 1]) == 5
    assert locate(text, ["template", "id"]) == 2


# -- [[charts]] ---------------------------------------------------------------------------------------------------

CHARTS = GOOD + """
[[charts]]
name = "Sales by region"
data = "by_region"
categories = "Region"
series = ["Sales", "Profit"]
series_names = ["Sales ($)"]
number_format = '"$"#,##0'
title = "Sales by region, {{ company }}"

[[charts]]
index = 2
data = "row"
series = ["Q1", "Q2"]
"""


def test_charts_are_read_into_chart_specs(tmp_path):
    spec = load_package(make_package(tmp_path, CHARTS))
    first, second = spec.charts
    assert (first.name, first.index, first.data, first.categories) == ("Sales by region", None, "by_region", "Region")
    assert first.series == ("Sales", "Profit") and first.series_names == ("Sales ($)",)
    assert first.number_format == '"$"#,##0' and first.title == "Sales by region, {{ company }}"
    assert (second.name, second.index, second.categories, second.series) == ("", 2, None, ("Q1", "Q2"))


@pytest.mark.parametrize("second, key, words", [
    ('data = "row"\nseries = ["Q1"]', "charts[1]", "needs name (the chart's name, alt text or title in Word) or index"),
    ('index = 2\ndata = "row"\nseries = ["Q1"]\ncolour = "red"', "charts[1].colour", "unknown key"),
    ('index = 2\ndata = "row"\nseries = ["Q1"]\nseries_names = ["a", "b"]', "charts[1].series_names",
     "2 series_names for 1 series"),
    ('index = 0\ndata = "row"\nseries = ["Q1"]', "charts[1].index", "less than the minimum of 1"),
    ('index = 2\ndata = "by_region["\nseries = ["Q1"]', "charts[1].data", "not a valid expression"),
    ('index = 2\ndata = "row"', "charts[1]", "'series' is a required property"),
])
def test_chart_entry_errors_name_key_and_line(tmp_path, second, key, words):
    text = CHARTS[: CHARTS.rindex("[[charts]]")] + "[[charts]]\n" + second + "\n"
    with pytest.raises(ManifestError) as err:
        load_package(make_package(tmp_path, text))
    assert err.value.key == key and words in str(err.value)
    assert err.value.line is not None and err.value.line > 20
