"""The Generator interface every model backend implements, and what one call returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from docgen.cancel import CancelToken
from docgen.model import GenerationParams

TokenCallback = Callable[[str], None]


@dataclass(frozen=True)
class Message:
    """One chat message. ``role`` is ``system``, ``user`` or ``assistant``."""

    role: str
    content: str


@dataclass(frozen=True)
class Generation:
    """The result of one :meth:`Generator.generate` call.

    ``tokens``: tokens generated; ``prompt_tokens``: tokens of the full prompt; ``evaluated_tokens``: prompt
    tokens actually run through the model (the rest came from the KV cache); ``seconds``: wall time.
    """

    text: str
    tokens: int
    prompt_tokens: int
    evaluated_tokens: int
    seconds: float
    finish_reason: str = "stop"  # stop | length


class Generator(Protocol):
    """A text generator (local llama.cpp model, scripted fake, later an HTTP server).

    ``name`` identifies the model in logs and provenance; ``path`` is its file (None for non-file backends);
    ``n_ctx`` is the context window in tokens.
    """

    name: str
    n_ctx: int

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens the chat-formatted ``messages`` take, including the assistant header that follows them."""
        ...

    def generate(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        *,
        choices: Sequence[str] = (),
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
        schema: dict[str, Any] | None = None,
    ) -> Generation:
        """Write the assistant's reply to ``messages``.

        ``choices`` constrains the reply to exactly one of the given strings (grammar). ``schema`` (a JSON Schema,
        for ``format = "json"`` sections) constrains it to JSON text matching the schema (grammar); the caller
        parses and validates it. Callers pass ``schema`` only when they have one, so a backend written before it
        existed still works for the other formats. ``on_token`` receives
        decoded text deltas as they stream (never a split UTF-8 character). Raises Cancelled when ``cancel``
        is set, ContextOverflow when the prompt + ``params.max_tokens`` exceeds ``n_ctx``.
        """
        ...

    def close(self) -> None:
        """Free the model's memory."""
        ...
