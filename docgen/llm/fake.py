"""The scripted fake backend: no model, predictable text, adjustable speed.

For orchestration and GUI-timing tests and for demos without a model (``--backend fake``). It streams its
reply word by word, sleeping ``delay`` seconds per token, and honours cancellation between tokens and, with
``prompt_delay``, during a simulated prompt read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from docgen.cancel import CancelToken
from docgen.errors import ContextOverflow
from docgen.llm.base import Generation, Message, TokenCallback
from docgen.model import GenerationParams

Script = Callable[[Sequence[Message]], str]

#: What the fake backend writes when no script is given: neutral stand-in text that fits any template (a report,
#: a letter, a summary) and shows where a section lands and how its **bold**, *italic* and list look in Word.
DEFAULT_REPLY = (
    "This text stands in for the model's: the scripted demo backend wrote it, so the **layout** of the section "
    "can be checked before a model runs.\n\n"
    "- A first point, in *the template's* list style\n- A second point\n"
)


class FakeGenerator:
    """Replies with ``script(messages)`` (or a fixed Markdown text) streamed as words.

    ``choices`` replies pick the choice named in the last user message if any, else the first choice.
    Token count = words (+ 1 per message for formatting), an approximation that is only used for orchestration.
    """

    name = "fake"
    backend = "fake"
    path = None

    def __init__(self, script: Script | str | None = None, *, delay: float = 0.0, prompt_delay: float = 0.0,
                 n_ctx: int = 4096, fail_on: str | None = None) -> None:
        self._script = script
        self.delay = delay
        self.prompt_delay = prompt_delay
        self.n_ctx = n_ctx
        self.fail_on = fail_on
        self.calls: list[Sequence[Message]] = []

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Whitespace-separated words plus 4 per message (chat markup)."""
        return sum(len(m.content.split()) + 4 for m in messages) + 3

    def _reply(self, messages: Sequence[Message], choices: Sequence[str], schema: dict[str, Any] | None) -> str:
        if choices and schema is None:
            last = messages[-1].content.lower()
            return next((c for c in choices if c.lower() in last), choices[0])
        if schema is not None and self._script is None:
            return json.dumps(example_instance(schema), ensure_ascii=False)
        if callable(self._script):
            return self._script(messages)
        return self._script if isinstance(self._script, str) else DEFAULT_REPLY

    def generate(self, messages: Sequence[Message], params: GenerationParams, *, choices: Sequence[str] = (),
                 on_token: TokenCallback | None = None, cancel: CancelToken | None = None,
                 schema: dict[str, Any] | None = None) -> Generation:
        """See :meth:`docgen.llm.base.Generator.generate`. Raises RuntimeError if ``fail_on`` occurs in the
        prompt (to test one bad record in a batch). With ``schema`` and no script, the reply is
        :func:`example_instance` of the schema as JSON; a script's reply is returned as is (valid or not)."""
        self.calls.append(tuple(messages))
        start = time.perf_counter()
        prompt_tokens = self.count_tokens(messages)
        if prompt_tokens + params.max_tokens > self.n_ctx:
            raise ContextOverflow(f"prompt of {prompt_tokens} tokens + {params.max_tokens} does not fit {self.n_ctx}")
        if self.fail_on and any(self.fail_on in m.content for m in messages):
            raise RuntimeError(f"scripted failure: prompt contains {self.fail_on!r}")
        deadline = start + self.prompt_delay
        while time.perf_counter() < deadline:
            if cancel:
                cancel.raise_if_cancelled()
            time.sleep(0.01)
        words = self._reply(messages, choices, schema).split(" ")
        out: list[str] = []
        for i, word in enumerate(words[: params.max_tokens]):
            if cancel:
                cancel.raise_if_cancelled()
            piece = word if i == 0 else " " + word
            out.append(piece)
            if on_token:
                on_token(piece)
            if self.delay:
                time.sleep(self.delay)
        finish = "length" if len(words) > params.max_tokens else "stop"
        return Generation("".join(out), len(out), prompt_tokens, prompt_tokens, time.perf_counter() - start, finish)

    def close(self) -> None:
        """Nothing to free."""


def example_instance(schema: dict[str, Any]) -> Any:
    """A small value valid for the common JSON Schema keywords (``const``, ``enum``, ``type`` with ``properties``,
    ``items``, ``minItems``, ``minLength``/``maxLength``, ``minimum``): every listed property is filled, arrays get
    ``max(minItems, 1)`` items (capped by ``maxItems``), strings say ``example``."""
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        return {k: example_instance(v) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        count = min(max(schema.get("minItems", 1), 1), schema.get("maxItems", 1 << 30))
        return [example_instance(schema.get("items", {})) for _ in range(count)]
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    text = "example".ljust(schema.get("minLength", 0), "x")
    return text[: schema.get("maxLength", len(text))]


def open_fake(*, n_ctx: int = 4096, **_other: object) -> FakeGenerator:
    """Backend factory (:data:`docgen.llm.BACKENDS`): the scripted fake with its default reply."""
    return FakeGenerator(n_ctx=n_ctx)
