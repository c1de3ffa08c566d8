"""The llama.cpp backend: a GGUF model run in-process on the CPU through llama-cpp-python.

The only module that imports ``llama_cpp`` (and only when a model is loaded, never at start-up).

- Chat formatting uses the chat template stored in the GGUF (``tokenizer.chat_template``), with a ChatML
  fallback. Message *contents* are tokenized with ``special=False``, the template's markup with
  ``special=True``: a ``<|im_end|>`` typed in a customer comment is text, not an end-of-turn token.
- The KV cache of the longest common prefix with the previous call is kept by llama-cpp-python's
  ``Llama.generate``; docgen's prompt layout makes the shared part a prefix (see :mod:`docgen.llm.prompt`).
  The reused prefix is cut down to a multiple of ``n_batch`` (:meth:`LlamaCppGenerator._reuse`): llama.cpp's
  CPU kernels give slightly different logits for a token evaluated alone than for the same token inside a
  batch (matrix-vector vs matrix-matrix paths), so reusing an arbitrary prefix made the same prompt and seed
  write different text depending on what ran before (seen: a 618-token reply prompt evaluated fresh vs with
  617 tokens cached). With aligned reuse every prompt token is evaluated in the same ``n_batch`` chunks as in
  a fresh context, so the text depends only on the prompt and the seed.
- Cancellation: a :class:`~docgen.cancel.CancelToken` is polled between tokens and, through llama.cpp's
  abort callback (``llama_set_abort_callback``), inside prompt processing, so a cancel stops within one
  compute graph step (well under 0.5 s) even while a long prompt is being read.
- Streaming decodes UTF-8 incrementally: a multi-byte character split over tokens is emitted whole.
"""

from __future__ import annotations

import codecs
import ctypes
import json
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from pathlib import Path

from docgen.cancel import CancelToken
from docgen.errors import Cancelled, ContextOverflow, ModelLoadError
from docgen.llm.base import Generation, Message, TokenCallback
from docgen.llm.discovery import base_model_warning, check_gguf
from docgen.model import GenerationParams

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

CHATML_FALLBACK = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_SENTINEL = "\u27e6docgen-content-{}\u27e7"


def choice_grammar(choices: Sequence[str]) -> str:
    """GBNF grammar accepting exactly one of ``choices`` (quoted as GBNF string literals)."""
    def literal(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "root ::= " + " | ".join(literal(c) for c in choices)


class LlamaCppGenerator:
    """A loaded GGUF model. Construct once per run; reuse across documents so the KV cache helps.

    ``n_threads``: CPU threads for both prompt processing and generation. ``n_ctx``: context window in tokens.
    Raises ModelNotFound/ModelLoadError if the file is missing, not GGUF, or llama.cpp cannot load it.
    """

    backend = "llamacpp"

    def __init__(self, model_path: Path, *, n_ctx: int = 4096, n_threads: int = 2, n_batch: int = 64) -> None:
        import llama_cpp  # deferred: start-up and --help must not load llama.cpp

        self.path = check_gguf(Path(model_path))
        self.name = self.path.name
        self._cancel: CancelToken | None = None
        self._prompt_len = 0  # prompt tokens of the last call: the most of the KV cache that may be reused
        self._calibration: dict[tuple, np.ndarray] = {}
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(self.path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                n_batch=n_batch, verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(
                f"llama.cpp could not load {self.path} ({exc}). The file may be truncated or use an architecture "
                "this llama.cpp build does not support; try another GGUF file."
            ) from exc
        # llama.cpp logs a cancelled decode as an error ("decode: removing memory module entries ..."); a
        # cancel is not an error for docgen, and real failures surface as exceptions, so keep the terminal quiet.
        logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL)
        self.n_ctx = self._llm.n_ctx()
        meta = self._llm.metadata
        self.metadata = dict(meta)
        #: what the user must hear about this model before trusting its text (a base model, see
        #: :func:`docgen.llm.discovery.base_model_warning`); shells print or show these after loading
        self.warnings: tuple[str, ...] = tuple(w for w in (base_model_warning(meta, self.name),) if w)
        for warning in self.warnings:
            log.warning(warning)
        self._vocab = self._llm._model.vocab
        self._llama_cpp = llama_cpp
        template = meta.get("tokenizer.chat_template") or CHATML_FALLBACK
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        bos = self._piece(self._llm.token_bos())
        eos = self._piece(self._llm.token_eos())
        self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        self._bos_text = bos
        self._add_bos = meta.get("tokenizer.ggml.add_bos_token", "false") == "true"
        # Keep a reference: ctypes callbacks must outlive the context that calls them.
        self._abort_cb = llama_cpp.ggml_abort_callback(self._should_abort)
        llama_cpp.llama_set_abort_callback(self._llm._ctx.ctx, self._abort_cb, ctypes.c_void_p(0))

    def _reuse(self, tokens: Sequence[int]) -> int:
        """Keep the KV cache of the longest common prefix of ``tokens`` (minus its last token, which must be
        evaluated for its logits) with what is cached, cut down to a multiple of ``n_batch`` (module docstring);
        drop the rest. Returns the number of prompt tokens reused."""
        llm = self._llm
        common = 0
        for a, b in zip(llm._input_ids[: min(llm.n_tokens, self._prompt_len)], tokens[:-1], strict=False):
            if a != b:
                break
            common += 1
        aligned = common - common % llm.n_batch
        llm.n_tokens = aligned  # generate()/eval() match prefixes and drop the KV cache after n_tokens
        self._prompt_len = len(tokens)  # only prompt tokens were evaluated in aligned chunks; replies one by one
        return aligned

    def _piece(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", errors="ignore")

    def _should_abort(self, _data: ctypes.c_void_p) -> bool:
        cancel = self._cancel
        return bool(cancel and cancel.cancelled)

    @property
    def quantization(self) -> str:
        """The GGUF file type (``general.file_type``) as llama.cpp names it, e.g. ``MOSTLY_Q4_1``."""
        ftype = self.metadata.get("general.file_type")
        names = {"0": "F32", "1": "F16", "2": "Q4_0", "3": "Q4_1", "7": "Q8_0", "8": "Q5_0", "9": "Q5_1",
                 "10": "Q2_K", "11": "Q3_K_S", "12": "Q3_K_M", "14": "Q4_K_S", "15": "Q4_K_M", "16": "Q5_K_S",
                 "17": "Q5_K_M", "18": "Q6_K"}
        return names.get(str(ftype), f"type {ftype}") if ftype is not None else "unknown"

    def tokenize_messages(self, messages: Sequence[Message]) -> list[int]:
        """Chat-format ``messages`` with the model's template (plus the assistant header) and tokenize:
        template markup with special tokens, message contents as plain text."""
        formatted = self._formatter(
            messages=[{"role": m.role, "content": _SENTINEL.format(i)} for i, m in enumerate(messages)]
        ).prompt
        tokens: list[int] = []
        rest = formatted
        first = True
        for i, message in enumerate(messages):
            markup, _, rest = rest.partition(_SENTINEL.format(i))
            tokens += self._markup(markup, first)
            first = False
            tokens += self._llm.tokenize(message.content.encode("utf-8"), add_bos=False, special=False)
        tokens += self._markup(rest, first)
        return tokens

    def _markup(self, text: str, first: bool) -> list[int]:
        add_bos = first and self._add_bos and not text.startswith(self._bos_text)
        if not text and not add_bos:
            return []
        return self._llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens of the chat-formatted prompt, including the assistant header."""
        return len(self.tokenize_messages(messages))

    def generate(self, messages: Sequence[Message], params: GenerationParams, *, choices: Sequence[str] = (),
                 on_token: TokenCallback | None = None, cancel: CancelToken | None = None,
                 schema: dict[str, Any] | None = None) -> Generation:
        """See :meth:`docgen.llm.base.Generator.generate`.

        ``choices`` with ``temperature <= 0`` are *scored*, not sampled: the prompt is evaluated once and each
        choice gets the log-probability of its first token at the answer position, summed (log-sum-exp) over
        its spellings as given, lower case and Capitalized. When the messages carry ``content_free`` (the same
        prompt with the data replaced by ``N/A``, see :class:`docgen.llm.prompt.RowMessages`), that prompt's
        scores are subtracted (contextual calibration, Zhao et al. 2021, "Calibrate Before Use"; computed once
        per distinct content-free prompt and cached). The highest score wins. On labelled reviews this beat
        greedy grammar decoding, which answered "positive" for almost everything (bench/sentiment_accuracy.py).
        Grammar-constrained sampling is used instead when two choices share a first token (scoring could not
        tell them apart) or when ``temperature > 0`` (the caller asked for sampling).

        ``schema`` (JSON Schema) is turned into a GBNF grammar by llama-cpp-python
        (``LlamaGrammar.from_json_schema``), so every sampled token keeps the reply valid JSON of that shape; a
        reply cut by ``max_tokens`` can still be incomplete (the caller parses and validates it).
        """
        start = time.perf_counter()
        tokens = self.tokenize_messages(messages)
        if len(tokens) + params.max_tokens > self.n_ctx:
            raise ContextOverflow(
                f"The prompt takes {len(tokens)} tokens and the section may write {params.max_tokens} more, "
                f"but the model's context window holds {self.n_ctx}. Raise n_ctx in Settings or lower max_tokens."
            )
        cached = self._reuse(tokens)
        if choices and params.temperature <= 0 and schema is None:
            first = self._choice_first_tokens(choices)
            if first is not None:
                return self._score_choices(messages, tokens, cached, choices, first, start, cancel)
        grammar = None
        if schema is not None:
            from llama_cpp import LlamaGrammar

            grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        elif choices:
            from llama_cpp import LlamaGrammar

            grammar = LlamaGrammar.from_string(choice_grammar(choices), verbose=False)
        self._llm.set_seed(params.seed)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        out: list[str] = []
        count = 0
        finish = "length"
        self._cancel = cancel
        try:
            if cancel:
                cancel.raise_if_cancelled()
            for token in self._llm.generate(
                tokens, top_k=params.top_k, top_p=params.top_p, temp=params.temperature,
                repeat_penalty=params.repeat_penalty, frequency_penalty=params.frequency_penalty,
                presence_penalty=params.presence_penalty, grammar=grammar, reset=True,
            ):
                if cancel and cancel.cancelled:
                    raise Cancelled()
                if self._llama_cpp.llama_vocab_is_eog(self._vocab, token):
                    finish = "stop"
                    break
                count += 1
                piece = decoder.decode(self._llm.detokenize([token], special=False))
                if piece:
                    out.append(piece)
                    if on_token:
                        on_token(piece)
                if count >= params.max_tokens:
                    break
        except RuntimeError as exc:
            self._llm.reset()
            if cancel and cancel.cancelled:
                raise Cancelled() from exc
            raise
        except Cancelled:
            self._llm.reset()
            raise
        finally:
            self._cancel = None
        tail = decoder.decode(b"", final=True)
        if tail:
            out.append(tail)
            if on_token:
                on_token(tail)
        return Generation("".join(out), count, len(tokens), len(tokens) - cached, time.perf_counter() - start, finish)

    def _choice_first_tokens(self, choices: Sequence[str]) -> list[set[int]] | None:
        """First tokens of each choice's spellings (as given, lower case, Capitalized);
        None when two choices share a first token (then scoring cannot tell them apart)."""
        out: list[set[int]] = []
        for choice in choices:
            firsts = set()
            for variant in {choice, choice.lower(), choice.capitalize()}:
                toks = self._llm.tokenize(variant.encode("utf-8"), add_bos=False, special=False)
                if toks:
                    firsts.add(toks[0])
            out.append(firsts)
        for i, a in enumerate(out):
            if not a or any(a & b for b in out[i + 1:]):
                return None
        return out

    def _next_token_logprobs(self, tokens: list[int]) -> np.ndarray:
        """Log-softmax of the model's next-token logits after ``tokens``, reusing the cached prefix."""
        import numpy as np

        llm = self._llm
        prefix = self._reuse(tokens)
        llm.eval(tokens[prefix:])
        logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm._n_vocab,)).astype(np.float64)
        logits -= logits.max()
        return logits - np.log(np.exp(logits).sum())

    def _choice_logprobs(self, tokens: list[int], first: list[set[int]]) -> np.ndarray:
        import numpy as np

        logp = self._next_token_logprobs(tokens)
        return np.array([np.logaddexp.reduce(logp[sorted(f)]) for f in first])

    def _score_choices(self, messages: Sequence[Message], tokens: list[int], cached: int, choices: Sequence[str],
                       first: list[set[int]], start: float, cancel: CancelToken | None) -> Generation:
        """Pick the choice with the highest (calibrated) next-token log-probability; see :meth:`generate`."""
        self._cancel = cancel
        try:
            if cancel:
                cancel.raise_if_cancelled()
            scores = self._choice_logprobs(tokens, first)
            free = tuple(getattr(messages, "content_free", ()))
            if free:
                key = (free, tuple(choices))
                if key not in self._calibration:
                    if len(self._calibration) > 64:
                        self._calibration.clear()
                    self._calibration[key] = self._choice_logprobs(self.tokenize_messages(free), first)
                scores = scores - self._calibration[key]
        except RuntimeError as exc:
            self._llm.reset()
            if cancel and cancel.cancelled:
                raise Cancelled() from exc
            raise
        finally:
            self._cancel = None
        import numpy as np

        self.last_scores = scores
        text = choices[int(np.argmax(scores))]
        return Generation(text, 1, len(tokens), len(tokens) - cached, time.perf_counter() - start, "stop")

    def close(self) -> None:
        """Free the model and its context."""
        llm = getattr(self, "_llm", None)
        if llm is not None:
            llm.close()
            self._llm = None


def open_llamacpp(*, model_path: str | Path | None = None, n_ctx: int = 4096, n_threads: int = 2,
                  **_other: object) -> LlamaCppGenerator:
    """Backend factory (:data:`docgen.llm.BACKENDS`): the GGUF model :func:`~docgen.llm.discovery.find_model`
    finds for ``model_path``, loaded with ``n_ctx`` and ``n_threads``."""
    from docgen.llm.discovery import find_model

    return LlamaCppGenerator(find_model(model_path), n_ctx=n_ctx, n_threads=n_threads)
