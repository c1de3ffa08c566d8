"""``format = "json"`` sections: generated grammar-constrained by their JSON schema, then parsed and validated."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import jsonschema

from docgen.errors import DocgenError
from docgen.llm.base import Generation, Message, Request, TokenCallback
from docgen.llm.schedule import Steps
from docgen.model import GenerationParams, SectionSpec


def json_problem(text: str, schema: Mapping[str, Any] | None) -> str | None:
    """Why ``text`` is not a JSON value valid for ``schema`` ("valid JSON: ...", "valid for the section's
    schema: ..."), or None when it is."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        return f"valid JSON: {exc}"
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema or {}).iter_errors(value))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path)
        return f"valid for the section's schema: {error.message}" + (f" (at {where})" if where else "")
    return None


def json_request(section: SectionSpec, messages: Sequence[Message], params: GenerationParams, record: str,
                 on_token: TokenCallback | None = None) -> Request:
    """The request for a json section: its schema as the grammar."""
    return Request(tuple(messages), params, schema=section.schema or {}, on_token=on_token,
                   what=f"section '{section.id}' ({record})")


def json_steps(sections: Sequence[tuple[SectionSpec, Sequence[Message], GenerationParams, str]],
               on_token: TokenCallback | None = None) -> Steps[list[tuple[Generation, GenerationParams, Any]]]:
    """Generate json sections, each ``(section, messages, params, record)``, all in one round; an invalid reply
    is generated once more with seed + 1 (all retries in a second round). Returns per item the generation,
    the parameters used and the parsed value. A second invalid reply raises DocgenError naming the section,
    the record and the JSON or schema error."""
    gens = yield [json_request(s, m, p, r, on_token) for s, m, p, r in sections]
    out: list[Any] = [None] * len(sections)
    retry = []
    for i, ((section, _m, params, _r), gen) in enumerate(zip(sections, gens, strict=True)):
        if json_problem(gen.text, section.schema) is None:
            out[i] = (gen, params, json.loads(gen.text))
        else:
            retry.append(i)
    if retry:
        again = [(sections[i][0], sections[i][1], dataclasses.replace(sections[i][2], seed=sections[i][2].seed + 1),
                  sections[i][3]) for i in retry]
        gens = yield [json_request(s, m, p, r, on_token) for s, m, p, r in again]
        for i, (section, _m, params, record), gen in zip(retry, again, gens, strict=True):
            problem = json_problem(gen.text, section.schema)
            if problem is not None:
                cut = " It stopped at max_tokens: raise max_tokens." if gen.finish_reason == "length" else ""
                raise DocgenError(f"The model's reply for JSON section '{section.id}' ({record}) is not {problem} "
                                  f"(tried seeds {params.seed - 1} and {params.seed}).{cut} "
                                  f"Reply: {gen.text[:200]!r}")
            out[i] = (gen, params, json.loads(gen.text))
    return out


__all__ = ["json_problem", "json_request", "json_steps"]
