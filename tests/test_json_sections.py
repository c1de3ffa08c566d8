"""Structured sections (``format = "json"``): grammar-constrained generation, parsing, schema validation, and the
parsed fields in template.docx tags (``{{ sections.facts.mood }}``, loops over list fields, per-row results)."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import jsonschema
import pytest

from docgen.errors import DocgenError
from docgen.llm import open_generator
from docgen.llm.fake import FakeGenerator, example_instance
from docgen.pipeline import DocumentJob, generate
from docgen.render import read_back
from docgen.sources import load_dataset
from docgen.templates.manifest import load_manifest

SCHEMA = {"type": "object", "properties": {"mood": {"enum": ["happy", "angry"]},
                                           "topic": {"type": "string", "maxLength": 40}},
          "required": ["mood", "topic"]}

MANIFEST = """
[template]
id = "json-facts"
name = "JSON facts"
version = "1.0.0"

[data]
mode = "table"

[[sections]]
id = "facts"
title = "Facts"
format = "json"
prompt = "Read the customer comments above. Give the overall mood and the main topics."
max_tokens = 120

[sections.schema]
type = "object"
required = ["mood", "topics"]

[sections.schema.properties.mood]
enum = ["happy", "angry"]

[sections.schema.properties.topics]
type = "array"
minItems = 1
maxItems = 3
items = { type = "string", maxLength = 30 }
"""

PER_ROW = """
[[sections]]
id = "tag"
title = "Tag"
format = "json"
per_row = true
prompt = "Comment: {{ row.comment }}"
max_tokens = 40

[sections.schema]
type = "object"
required = ["mood"]
properties = { mood = { enum = ["happy", "angry"] } }
"""


def make_template(root: Path, manifest: str = MANIFEST, extra: tuple[str, ...] = ()) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "docgen.toml").write_text(manifest, encoding="utf-8")
    d = docx.Document()
    d.add_paragraph("Mood: {{ sections.facts.mood }}")
    d.add_paragraph("{%p for t in sections.facts.topics %}")
    d.add_paragraph("Topic: {{ t }}")
    d.add_paragraph("{%p endfor %}")
    d.add_paragraph("Count: {{ sections.facts.topics|length }}")
    for line in extra:
        d.add_paragraph(line)
    d.save(str(root / "template.docx"))
    return root


def comments(tmp_path: Path) -> Path:
    path = tmp_path / "comments.csv"
    path.write_text("name,comment\nAda,Delivery was late and the box was broken\nBo,Refund took three weeks\n",
                    encoding="utf-8")
    return path


def texts(path: Path) -> list[str]:
    return [b.text for b in read_back(path) if getattr(b, "text", "")]


def run(tmp_path: Path, generator, manifest: str = MANIFEST, extra: tuple[str, ...] = ()):
    spec = load_manifest(make_template(tmp_path / "tpl", manifest, extra))
    job = DocumentJob(spec, load_dataset(comments(tmp_path)))
    out = tmp_path / "out" / "facts.docx"
    return generate(job, generator, out), out


def test_scripted_json_fills_fields_and_loops(tmp_path):
    reply = json.dumps({"mood": "angry", "topics": ["late delivery", "refund & returns"]})
    result, out = run(tmp_path, FakeGenerator(reply))
    assert texts(out) == ["Mood: angry", "Topic: late delivery", "Topic: refund & returns", "Count: 2"]
    assert json.loads(result.sections[0].text)["mood"] == "angry"
    sidecar = json.loads(out.with_name("facts.provenance.json").read_text(encoding="utf-8"))
    assert sidecar["sections"][0]["format"] == "json"


def test_fake_without_script_builds_an_instance_of_the_schema(tmp_path):
    generator = FakeGenerator()
    _result, out = run(tmp_path, generator)
    assert texts(out) == ["Mood: happy", "Topic: example", "Count: 1"]
    schema = load_manifest(tmp_path / "tpl").sections[0].schema
    jsonschema.validate(example_instance(schema), schema)
    assert "JSON" in generator.calls[0][-1].content  # the format instruction names the schema


def test_whole_section_prints_as_json(tmp_path):
    reply = json.dumps({"mood": "happy", "topics": ["ü"]}, ensure_ascii=False)
    _result, out = run(tmp_path, FakeGenerator(reply), extra=("All: {{ sections.facts }}",))
    assert texts(out)[-1] == 'All: {"mood": "happy", "topics": ["ü"]}'


def test_invalid_json_is_retried_once_then_names_the_section(tmp_path):
    generator = FakeGenerator('{"mood": "angry", "topics": [')
    with pytest.raises(DocgenError) as info:
        run(tmp_path, generator)
    message = str(info.value)
    assert "section 'facts'" in message and "valid JSON" in message and "comments.csv" in message
    assert "seeds 42 and 43" in message
    assert len(generator.calls) == 2
    assert not (tmp_path / "out" / "facts.docx").exists()
    assert not (tmp_path / "out" / "facts.provenance.json").exists()


def test_json_that_breaks_the_schema_is_an_error(tmp_path):
    with pytest.raises(DocgenError, match=r"section 'facts'.*schema.*'sad' is not one of"):
        run(tmp_path, FakeGenerator('{"mood": "sad", "topics": ["x"]}'))


def test_retry_with_next_seed_can_succeed(tmp_path):
    replies = iter(['{"mood": ', '{"mood": "happy", "topics": ["ok"]}'])
    result, out = run(tmp_path, FakeGenerator(lambda _messages: next(replies)))
    assert texts(out)[0] == "Mood: happy"
    assert result.sections[0].params.seed == 43  # recorded: the seed that produced the text


def test_edited_json_section_is_validated(tmp_path):
    spec = load_manifest(make_template(tmp_path / "tpl"))
    job = DocumentJob(spec, load_dataset(comments(tmp_path)), fixed_sections={"facts": "not json"})
    with pytest.raises(DocgenError, match="edited text of section 'facts'"):
        generate(job, FakeGenerator(), tmp_path / "out.docx")


def test_per_row_json_is_stored_in_the_row(tmp_path):
    def script(messages):
        text = messages[-1].content
        if "Comment:" not in text:  # the document-level section
            return '{"mood": "angry", "topics": ["delivery"]}'
        return '{"mood": "angry"}' if "late" in text else '{"mood": "happy"}'

    extra = ("{%p for r in rows %}", "{{ r.name }}: {{ r.tag.mood }}", "{%p endfor %}")
    _result, out = run(tmp_path, FakeGenerator(script), MANIFEST + PER_ROW, extra)
    assert texts(out)[-2:] == ["Ada: angry", "Bo: happy"]


@pytest.mark.model
def test_real_model_reply_parses_and_validates(tmp_path):
    manifest = MANIFEST.split("[sections.schema]")[0].replace(
        "Give the overall mood and the main topics.", "Give the mood and the topic.")
    manifest += ('[sections.schema]\ntype = "object"\nrequired = ["mood", "topic"]\n'
                 '[sections.schema.properties.mood]\nenum = ["happy", "angry"]\n'
                 '[sections.schema.properties.topic]\ntype = "string"\nmaxLength = 40\n')
    generator = open_generator("llamacpp")
    try:
        spec = load_manifest(make_template(tmp_path / "tpl", manifest))
        assert spec.sections[0].schema == SCHEMA | {"required": ["mood", "topic"]}
        doc = spec.docx
        d = docx.Document(str(doc))
        for p in d.paragraphs:
            p.text = ""
        d.paragraphs[0].text = "Mood: {{ sections.facts.mood }} / Topic: {{ sections.facts.topic }}"
        d.save(str(doc))
        out = tmp_path / "out" / "facts.docx"
        result = generate(DocumentJob(spec, load_dataset(comments(tmp_path))), generator, out)
    finally:
        generator.close()
    value = json.loads(result.sections[0].text)
    jsonschema.validate(value, SCHEMA)
    assert texts(out)[0] == f"Mood: {value['mood']} / Topic: {value['topic']}"
