"""The Generator interface every model backend implements, what one call returns, and :func:`generate_all`
(several requests at once: a backend with ``generate_many`` decodes them together, any other one in turn)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from docgen.cancel import CancelToken
from docgen.model import GenerationParams

TokenCallback = Callable[[str], None]
#: ``(request index, text delta)`` for :func:`generate_all`.
IndexedTokenCallback = Callable[[int, str], None]


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
    ``scores``: for a scored choice (see :meth:`docgen.llm.llamacpp.LlamaCppGenerator.generate`), the calibrated
    log-probability score of each choice in the request's order (natural log units, higher is likelier); empty
    when the backend sampled or cannot score. :mod:`docgen.sections.choice` reads them for ``choice_bias``.
    ``cached``: the text came from the section cache (:mod:`docgen.cache`): then every token count is 0 (this
    call spent no model tokens).
    """

    text: str
    tokens: int
    prompt_tokens: int
    evaluated_tokens: int
    seconds: float
    finish_reason: str = "stop"  # stop | length
    scores: tuple[float, ...] = ()
    cached: bool = False


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


@dataclass(frozen=True)
class Request:
    """One generation of a :func:`generate_all` call: the arguments of :meth:`Generator.generate` as data.

    ``choices``/``schema`` have the meaning they have there (at most one of them is non-empty). ``on_token``
    streams this request's text deltas; ``what`` names it in error messages ("section 'summary' (row 3 of
    tickets.csv)"). Neither takes part in equality (a cache key is messages + params + choices + schema).
    """

    messages: Sequence[Message]
    params: GenerationParams
    choices: Sequence[str] = ()
    schema: dict[str, Any] | None = None
    on_token: TokenCallback | None = field(default=None, compare=False, repr=False)
    what: str = field(default="", compare=False)


def generate_all(generator: Generator, requests: Sequence[Request], *, on_token: IndexedTokenCallback | None = None,
                 cancel: CancelToken | None = None) -> list[Generation]:
    """Run every request; returns one :class:`Generation` per request, in order.

    A backend that can decode several sequences at once offers ``generate_many(requests, on_token=, cancel=)``
    with this signature and contract (same text as one ``generate`` call per request with the same seed, each
    request's own ``on_token`` called with its deltas); any other backend gets one ``generate`` call per
    request, in turn. ``on_token(i, piece)`` also streams request ``i``. Raises what ``generate`` raises
    (Cancelled, ContextOverflow, ...); on an exception no result is returned.
    """
    many = getattr(generator, "generate_many", None)
    if many is not None:
        return list(many(requests, on_token=on_token, cancel=cancel))
    out = []
    for i, req in enumerate(requests):
        out.append(generator.generate(req.messages, req.params, choices=req.choices, on_token=request_stream(req, i, on_token),
                                      cancel=cancel, **({"schema": req.schema} if req.schema is not None else {})))
    return out


def request_stream(req: Request, index: int, on_token: IndexedTokenCallback | None) -> TokenCallback | None:
    """The per-token callback for request ``index``: its own ``on_token`` and the indexed one, either or both."""
    own = req.on_token
    if on_token is None:
        return own
    if own is None:
        return lambda piece: on_token(index, piece)

    def both(piece: str) -> None:
        own(piece)
        on_token(index, piece)
    return both
