"""The llama.cpp backend: a GGUF model run in-process on the CPU through llama-cpp-python.

The only module that imports ``llama_cpp`` (and only when a model is loaded, never at start-up).

- Chat formatting uses the chat template stored in the GGUF (``tokenizer.chat_template``), with a ChatML
  fallback. Message *contents* are tokenized with ``special=False``, the template's markup with
  ``special=True``: a ``<|im_end|>`` typed in a customer comment is text, not an end-of-turn token.
- Decoding runs in :mod:`docgen.llm.batched` for one request and for many: ``generate`` is one job in the
  one-sequence engine, ``generate_many`` gives its requests to a multi-sequence engine (up to ``parallel``
  sequences in one ``llama_decode``, a shared prompt prefix read once and copied to the other sequences). Both
  keep the KV cache of the longest common prefix with what each sequence held before (docgen's prompt layout
  makes the shared part a prefix, see :mod:`docgen.llm.prompt`), and both give the same text for the same
  prompt and seed, whatever ran before (see :mod:`docgen.llm.batched` for why this holds: one KV stream per
  sequence, flash attention off, no prompt token evaluated alone; so the reused prefix need not be cut to a
  multiple of ``n_batch`` as it had to be with ``Llama.generate``'s unified cache).
- Memory: the one-sequence engine holds ``n_ctx`` KV cells; the multi-sequence engine, made on the first
  ``generate_many`` of several requests, holds ``n_seq`` streams sized to the largest prompt + ``max_tokens``
  of its requests (rounded up to 256), at most :data:`MULTI_CELLS_FACTOR` x ``n_ctx`` cells in all; fewer
  sequences run at once when longer ones would not fit.
- Cancellation: a :class:`~docgen.cancel.CancelToken` is polled between decode rounds and, through llama.cpp's
  abort callback (``llama_set_abort_callback``), inside prompt processing, so a cancel stops within one
  compute graph step (well under 0.2 s with the models docgen targets) even while a long prompt is being read.
- Streaming decodes UTF-8 incrementally: a multi-byte character split over tokens is emitted whole.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docgen.cancel import CancelToken
from docgen.cpu import physical_cores
from docgen.errors import Cancelled, ContextOverflow, ModelLoadError
from docgen.llm.base import Generation, IndexedTokenCallback, Message, Request, TokenCallback, request_stream
from docgen.llm.batched import Engine, Job, cells_for
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
#: The multi-sequence engine's KV cells are at most this many times the one-sequence engine's ``n_ctx``.
MULTI_CELLS_FACTOR = 2
#: Tokens per llama_decode call. 512 is llama.cpp's default; a per-row batch of 32 short rows fills it.
N_BATCH = 512
_backend_ready = False
_backend_lock = threading.Lock()


def choice_grammar(choices: Sequence[str]) -> str:
    """GBNF grammar accepting exactly one of ``choices`` (quoted as GBNF string literals)."""
    def literal(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "root ::= " + " | ".join(literal(c) for c in choices)


def default_parallel() -> int:
    """Sequences to decode at once when the user did not say (``jobs = 0``): 4 per physical core, 4 to 16.

    Decoding a small model on a CPU is bound by memory bandwidth, so more sequences per weight read raise the
    aggregate tokens/s until the cores are busy: on a 2-core machine with the embedded model the aggregate was
    1.4x at 4 sequences and 1.6x at 8 (bench/run.py measures it). Physical cores come from psutil (logical CPUs
    share a core's units; :func:`docgen.cpu.physical_cores`)."""
    cores = physical_cores()
    return max(4, min(16, 4 * cores))


def _init_backend(llama_cpp: Any) -> None:
    global _backend_ready
    with _backend_lock:
        if not _backend_ready:
            llama_cpp.llama_backend_init()
            _backend_ready = True


class LlamaCppGenerator:
    """A loaded GGUF model. Construct once per run; reuse across documents so the KV cache helps.

    ``n_ctx``: context window of one sequence, in tokens (every request's prompt + ``max_tokens`` must fit).
    ``n_threads``: CPU threads for generation; ``n_threads_batch``: for prompt reading (default: the same).
    ``parallel``: the most sequences ``generate_many`` decodes at once (1: one after the other, in the
    one-sequence engine; 0 or None: :func:`default_parallel`, by physical cores). ``n_batch``: tokens per
    llama_decode call. :attr:`suggested_jobs` is what a batch should keep in flight (``jobs = 0``).
    Raises ModelNotFound/ModelLoadError if the file is missing, not GGUF, or llama.cpp cannot load it.
    """

    backend = "llamacpp"

    def __init__(self, model_path: Path, *, n_ctx: int = 4096, n_threads: int = 2, n_batch: int = N_BATCH,
                 parallel: int | None = 0, n_threads_batch: int | None = None) -> None:
        import llama_cpp  # deferred: start-up and --help must not load llama.cpp
        from llama_cpp._internals import LlamaModel

        self.path = check_gguf(Path(model_path))
        self.name = self.path.name
        self._llama_cpp = llama_cpp
        self._cancel: CancelToken | None = None
        self._lock = threading.RLock()
        self._calibration: dict[tuple, np.ndarray] = {}
        self.parallel = max(1, int(parallel)) if parallel else default_parallel()
        self.n_threads = max(1, int(n_threads))
        self.n_threads_batch = max(1, int(n_threads_batch or n_threads))
        self.n_batch = max(8, int(n_batch))
        # llama.cpp logs a cancelled decode as an error ("decode: removing memory module entries ..."); a
        # cancel is not an error for docgen, and real failures surface as exceptions, so keep the terminal quiet.
        logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL)
        _init_backend(llama_cpp)
        params = llama_cpp.llama_model_default_params()
        params.n_gpu_layers = 0
        try:
            self._model = LlamaModel(path_model=str(self.path), params=params, verbose=False)
            self.n_ctx = cells_for(n_ctx) if n_ctx % 256 else n_ctx
            self._single = Engine(llama_cpp, self._model, n_seq=1, n_ctx_seq=self.n_ctx, n_batch=self.n_batch,
                                  n_threads=self.n_threads, n_threads_batch=self.n_threads_batch,
                                  abort=self._should_abort)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(
                f"llama.cpp could not load {self.path} ({exc}). The file may be truncated or use an architecture "
                "this llama.cpp build does not support; try another GGUF file."
            ) from exc
        self._multi: Engine | None = None
        # Recurrent and hybrid models (Mamba, Jamba...) keep a state per sequence that prefix copies do not
        # cover the same way; they decode one sequence at a time.
        self._can_batch = not (llama_cpp.llama_model_is_recurrent(self._model.model)
                               or llama_cpp.llama_model_is_hybrid(self._model.model))
        meta = self._model.metadata()
        self.metadata = dict(meta)
        #: what the user must hear about this model before trusting its text (a base model, see
        #: :func:`docgen.llm.discovery.base_model_warning`); shells print or show these after loading
        self.warnings: tuple[str, ...] = tuple(w for w in (base_model_warning(meta, self.name),) if w)
        for warning in self.warnings:
            log.warning(warning)
        self._vocab = self._model.vocab
        template = meta.get("tokenizer.chat_template") or CHATML_FALLBACK
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        bos = self._piece(self._model.token_bos())
        eos = self._piece(self._model.token_eos())
        self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        self._bos_text = bos
        self._add_bos = meta.get("tokenizer.ggml.add_bos_token", "false") == "true"

    # -- model facts -------------------------------------------------------------------------------------------
    def _piece(self, token: int) -> str:
        if token < 0:
            return ""
        return self._model.detokenize([token], special=True).decode("utf-8", errors="ignore")

    def _should_abort(self) -> bool:
        cancel = self._cancel
        return bool(cancel and cancel.cancelled)

    @property
    def suggested_jobs(self) -> int:
        """Documents (or rows) a batch should keep in flight so ``generate_many`` fills the sequences:
        ``parallel`` (1 for models that decode one sequence at a time)."""
        return self.parallel if self._can_batch else 1

    def token_eos(self) -> int:
        """The model's end-of-sequence token id."""
        return self._model.token_eos()

    @property
    def kv_bytes_per_token(self) -> int:
        """KV-cache bytes one token takes in one sequence (f16 K and V in every layer), from the model's shape."""
        l = self._llama_cpp
        m = self._model.model
        heads = max(1, l.llama_model_n_head(m))
        head_dim = l.llama_model_n_embd(m) // heads
        return 2 * 2 * l.llama_model_n_layer(m) * l.llama_model_n_head_kv(m) * head_dim

    @property
    def quantization(self) -> str:
        """The GGUF file type (``general.file_type``) as llama.cpp names it, e.g. ``MOSTLY_Q4_1``."""
        ftype = self.metadata.get("general.file_type")
        names = {"0": "F32", "1": "F16", "2": "Q4_0", "3": "Q4_1", "7": "Q8_0", "8": "Q5_0", "9": "Q5_1",
                 "10": "Q2_K", "11": "Q3_K_S", "12": "Q3_K_M", "14": "Q4_K_S", "15": "Q4_K_M", "16": "Q5_K_S",
                 "17": "Q5_K_M", "18": "Q6_K"}
        return names.get(str(ftype), f"type {ftype}") if ftype is not None else "unknown"

    # -- prompts -----------------------------------------------------------------------------------------------
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
            tokens += self._model.tokenize(message.content.encode("utf-8"), add_bos=False, special=False)
        tokens += self._markup(rest, first)
        return tokens

    def _markup(self, text: str, first: bool) -> list[int]:
        add_bos = first and self._add_bos and not text.startswith(self._bos_text)
        if not text and not add_bos:
            return []
        return self._model.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens of the chat-formatted prompt, including the assistant header."""
        return len(self.tokenize_messages(messages))

    # -- generation --------------------------------------------------------------------------------------------
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
        kept = messages if isinstance(messages, tuple) else tuple(messages)  # RowMessages keep content_free
        request = Request(kept, params, choices=tuple(choices), schema=schema, on_token=on_token)
        return self._run([request], None, cancel, single=True)[0]

    def generate_many(self, requests: Sequence[Request], *, on_token: IndexedTokenCallback | None = None,
                      cancel: CancelToken | None = None) -> list[Generation]:
        """Several requests decoded together, up to ``parallel`` sequences per llama_decode; see
        :func:`docgen.llm.base.generate_all` for the contract. Each request's text is the text :meth:`generate`
        writes for it. Raises ContextOverflow (before any decoding) when one request does not fit ``n_ctx``,
        Cancelled, RuntimeError when llama.cpp fails."""
        return self._run(list(requests), on_token, cancel, single=len(requests) <= 1)

    def _run(self, requests: Sequence[Request], on_token: IndexedTokenCallback | None, cancel: CancelToken | None,
             *, single: bool) -> list[Generation]:
        plans = [self._plan(i, r, on_token) for i, r in enumerate(requests)]
        jobs = [p["job"] for p in plans]
        calibrations: dict[tuple, tuple[Job, list[int]]] = {}  # content-free prompts not scored yet
        for p in plans:
            key = p.get("calibrate")
            if key is not None and key not in self._calibration and key not in calibrations:
                free_tokens = self.tokenize_messages(key[0])
                self._check_budget(free_tokens, 1)
                calibrations[key] = (Job(free_tokens, GenerationParams(max_tokens=1), score=p["job"].score),
                                     p["groups"])
        extra = [job for job, _groups in calibrations.values()]
        with self._lock:
            engine = self._engine_for(jobs + extra, single)
            self._cancel = cancel
            try:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                engine.run(extra + jobs, cancel)
            except RuntimeError as exc:
                if cancel is not None and cancel.cancelled:
                    raise Cancelled() from exc
                raise
            finally:
                self._cancel = None
        known = {p["calibrate"]: self._calibration[p["calibrate"]] for p in plans
                 if p.get("calibrate") is not None and p["calibrate"] in self._calibration}
        for key, (job, groups) in calibrations.items():
            known[key] = self._choice_scores(job.logprobs, groups)
        if len(self._calibration) + len(calibrations) > 64:
            self._calibration.clear()
        self._calibration.update({key: known[key] for key in calibrations})
        return [self._generation(p, known) for p in plans]

    def _plan(self, index: int, request: Request, on_token: IndexedTokenCallback | None) -> dict[str, Any]:
        """Tokens, grammar or scoring, and streaming for one request (ContextOverflow when it does not fit)."""
        tokens = self.tokenize_messages(request.messages)
        params = request.params
        self._check_budget(tokens, params.max_tokens)
        stream = request_stream(request, index, on_token)
        plan: dict[str, Any] = {"request": request, "tokens": tokens}
        choices, schema = tuple(request.choices), request.schema
        if choices and params.temperature <= 0 and schema is None:
            first = self._choice_first_tokens(choices)
            if first is not None:
                flat = [t for group in first for t in sorted(group)]
                plan["groups"] = [len(g) for g in first]
                plan["job"] = Job(tokens, params, score=flat)
                free = tuple(getattr(request.messages, "content_free", ()))
                if free:
                    plan["calibrate"] = (free, choices)
                plan["stream"] = stream
                return plan
        grammar = None
        if schema is not None:
            from llama_cpp import LlamaGrammar

            g = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
            grammar = (g._grammar, g._root)
        elif choices:
            grammar = (choice_grammar(choices), "root")
        plan["job"] = Job(tokens, params, grammar=grammar, on_piece=stream)
        return plan

    def _check_budget(self, tokens: Sequence[int], max_tokens: int) -> None:
        if len(tokens) + max_tokens > self.n_ctx:
            raise ContextOverflow(
                f"The prompt takes {len(tokens)} tokens and the section may write {max_tokens} more, "
                f"but the model's context window holds {self.n_ctx}. Raise n_ctx in Settings or lower max_tokens."
            )

    def _engine_for(self, jobs: Sequence[Job], single: bool) -> Engine:
        """The one-sequence engine, or the multi-sequence one sized for ``jobs`` (made or grown on demand)."""
        if single or self.parallel <= 1 or len(jobs) <= 1 or not self._can_batch:
            return self._single
        need = cells_for(max(len(j.tokens) + max(1, j.params.max_tokens) for j in jobs))
        n_seq = min(self.parallel, len(jobs), max(1, MULTI_CELLS_FACTOR * self.n_ctx // need))
        if n_seq <= 1:
            return self._single
        multi = self._multi
        if multi is None or multi.n_ctx_seq < need or multi.n_seq < n_seq:
            n_seq = max(n_seq, multi.n_seq if multi is not None and multi.n_ctx_seq >= need else 0)
            n_seq = min(n_seq, max(1, MULTI_CELLS_FACTOR * self.n_ctx // need))
            if multi is not None:
                multi.close()
                self._multi = None
            self._multi = multi = Engine(self._llama_cpp, self._model, n_seq=n_seq, n_ctx_seq=need,
                                         n_batch=self.n_batch, n_threads=self.n_threads,
                                         n_threads_batch=self.n_threads_batch, abort=self._should_abort)
        return multi

    def _generation(self, plan: dict[str, Any], calibration: dict[tuple, Any]) -> Generation:
        job: Job = plan["job"]
        tokens = plan["tokens"]
        if job.score is None:
            return Generation(job.text, len(job.generated), len(tokens), job.evaluated, job.seconds,
                              job.finish_reason)
        import numpy as np

        scores = self._choice_scores(job.logprobs, plan["groups"])
        key = plan.get("calibrate")
        if key is not None:
            scores = scores - calibration[key]
        self.last_scores = scores
        text = plan["request"].choices[int(np.argmax(scores))]
        stream = plan.get("stream")
        if stream is not None:
            stream(text)
        return Generation(text, 1, len(tokens), job.evaluated, job.seconds, "stop",
                          scores=tuple(float(s) for s in scores))

    @staticmethod
    def _choice_scores(logprobs: Any, groups: Sequence[int]) -> np.ndarray:
        """Per choice: log-sum-exp of the log-probabilities of its first tokens (``groups``: how many each)."""
        import numpy as np

        out, at = [], 0
        for n in groups:
            out.append(np.logaddexp.reduce(logprobs[at:at + n]))
            at += n
        return np.array(out)

    def _choice_first_tokens(self, choices: Sequence[str]) -> list[set[int]] | None:
        """First tokens of each choice's spellings (as given, lower case, Capitalized);
        None when two choices share a first token (then scoring cannot tell them apart)."""
        out: list[set[int]] = []
        for choice in choices:
            firsts = set()
            for variant in {choice, choice.lower(), choice.capitalize()}:
                toks = self._model.tokenize(variant.encode("utf-8"), add_bos=False, special=False)
                if toks:
                    firsts.add(toks[0])
            out.append(firsts)
        for i, a in enumerate(out):
            if not a or any(a & b for b in out[i + 1:]):
                return None
        return out

    # -- cache and threads -------------------------------------------------------------------------------------
    def reset_cache(self) -> None:
        """Forget every sequence's KV cache (the next prompt is read from its first token)."""
        with self._lock:
            self._single.forget()
            if self._multi is not None:
                self._multi.forget()

    def set_threads(self, n_threads: int, n_threads_batch: int | None = None) -> None:
        """Threads for generation and prompt reading from now on."""
        with self._lock:
            self.n_threads = max(1, n_threads)
            self.n_threads_batch = max(1, n_threads_batch or n_threads)
            for engine in (self._single, self._multi):
                if engine is not None:
                    engine.set_threads(self.n_threads, self.n_threads_batch)

    def close(self) -> None:
        """Free the model and its contexts."""
        with self._lock:
            for engine in (getattr(self, "_multi", None), getattr(self, "_single", None)):
                if engine is not None:
                    engine.close()
            self._multi = None
            model = getattr(self, "_model", None)
            if model is not None:
                model.close()
                self._model = None


def open_llamacpp(*, model_path: str | Path | None = None, n_ctx: int = 4096, n_threads: int = 2,
                  parallel: int | None = 0, **_other: object) -> LlamaCppGenerator:
    """Backend factory: the GGUF model :func:`~docgen.llm.discovery.find_model` finds for ``model_path``, loaded
    with ``n_ctx`` and ``n_threads``; ``parallel`` sequences at most in ``generate_many`` (0: by cores). Other
    options (a server's) are ignored."""
    from docgen.llm.discovery import find_model

    return LlamaCppGenerator(find_model(model_path), n_ctx=n_ctx, n_threads=n_threads, parallel=parallel)
