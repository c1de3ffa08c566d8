"""The decode loop of the llama.cpp backend: one or many sequences at once on llama.cpp's low-level batch API.

Every generation of :class:`docgen.llm.llamacpp.LlamaCppGenerator` runs through :meth:`Engine.run` - one
request (``generate``) or many (``generate_many``: the rows of a mail merge, a per-row classification, the k
candidates of a section) - so there is one code path and one set of numerics for both.

How a run works:

- An :class:`Engine` owns a llama.cpp context with ``n_seq`` sequences (*slots*), each with its own KV-cache
  stream of ``n_ctx_seq`` cells (``kv_unified = false``), and remembers which tokens each slot's stream holds.
- Jobs are given to free slots in order (continuous batching: a slot that finishes takes the next job at once).
  A job keeps the longest common prefix of its prompt with what its slot already holds (the previous row's
  system prompt and instruction, the previous section's data) and evaluates only the rest.
- With several jobs, the prefix they all share is evaluated once, in slot 0, and copied into the other slots
  with ``llama_memory_seq_cp`` (a copy of the stream) before their own parts are read.
- Each round puts into one ``llama_decode`` batch the next token of every generating slot and as many prompt
  tokens of the reading slots as ``n_batch`` allows; logits are asked only for the last prompt token and for
  generated tokens.
- Every job has its own sampler chain with its own seed, built like llama-cpp-python's ``Llama.generate``
  builds it (penalties over the last 64 generated tokens, grammar, top-k, typical 1.0, top-p, min-p 0.05,
  temperature, then the seeded distribution; greedy at temperature 0), so a job's text is what ``Llama.generate``
  writes for the same prompt and seed. Scoring jobs (``Job.score``) are not sampled: they return the
  log-probabilities of the given first tokens at the answer position.
- Cancel: llama.cpp's abort callback (:attr:`Engine.abort`) is polled inside every compute graph, and the
  caller's CancelToken between rounds; after a cancel every slot is emptied (the cache state of an aborted
  decode is not trusted).

Same seed, same text (measured on this build's CPU kernels with SmolLM2-135M: bitwise-equal logits for 260
greedy tokens): a sequence's result does not depend on the batch it is decoded in, on how its prompt was cut
into pieces, on what its slot held before, on the stream size (one 4096-cell sequence vs four 512-cell ones) or
on a prefix copied from another slot - *because*

- each sequence has its own KV stream, in which its tokens sit at the cells of their positions. With one
  stream shared by all sequences (``kv_unified = true``, llama.cpp's default for several sequences) the other
  sequences' cells sit between a sequence's own cells and change the order of the attention sums: logits
  differed from the first token on, and so did the text;
- flash attention is off (CPU flash attention gave different logits for different prompt chunkings);
- a prompt token is never evaluated as its sequence's only token in a batch (:data:`MIN_CHUNK`): attention
  over one query takes another kernel path than over two or more, and the logits after "prompt minus its last
  token cached, last token alone" differed from a fresh read for some prompts (pieces of 2, 7 or 100 tokens,
  in any batch, gave identical results). So a slot keeps at most ``len(prompt) - 2`` cached tokens and a prompt
  is never split so that one token is left for a later round. Generated tokens always go one per sequence,
  the same in every run.

``tests/test_batched.py`` keeps these guarantees checked with the real model, and ``bench/numerics.py``
checks them on other quantizations of it (their weight kernels differ).
"""

from __future__ import annotations

import codecs
import ctypes
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from docgen.cancel import CancelToken
from docgen.errors import Cancelled
from docgen.model import GenerationParams

#: llama-cpp-python's ``Llama`` defaults that docgen's parameters do not set (``last_n_tokens_size``, ``min_p``,
#: ``typical_p`` of ``Llama.generate``), kept so a job writes what ``Llama.generate`` writes.
PENALTY_LAST_N = 64
MIN_P = 0.05
TYPICAL_P = 1.0
#: KV cells come in multiples of this (llama.cpp pads the attention view to 256 cells).
CELL_BLOCK = 256
#: A prefix shorter than this is not worth a stream copy: the slots read it themselves.
MIN_SHARED_PREFIX = 16
#: A sequence's prompt tokens are fed in pieces of at least this many tokens (see the module docstring).
MIN_CHUNK = 2


@dataclass
class Job:
    """One sequence to run.

    ``tokens``: the prompt (at least one token). ``params``: sampling parameters and ``max_tokens``.
    ``grammar``: ``(gbnf_text, root_rule)`` constraining every sampled token, or None. ``score``: instead of
    sampling, read the log-probabilities (natural log, float64 log-softmax) of these token ids at the answer
    position into ``logprobs``. ``on_piece`` receives the decoded text deltas as they are sampled (never a split
    UTF-8 character).

    Filled by :meth:`Engine.run`: ``generated`` (token ids, without the end-of-generation token), ``text``,
    ``finish_reason`` (``stop`` | ``length``), ``evaluated`` (prompt tokens run through the model; the rest came
    from the slot's cache), ``seconds`` (from the job's start in its slot to its end).
    """

    tokens: Sequence[int]
    params: GenerationParams
    grammar: tuple[str, str] | None = None
    score: Sequence[int] | None = None
    on_piece: Callable[[str], None] | None = None
    generated: list[int] = field(default_factory=list)
    text: str = ""
    finish_reason: str = "stop"
    evaluated: int = 0
    seconds: float = 0.0
    logprobs: Any = None


class _Slot:
    __slots__ = ("seq", "resident", "job", "pending", "sampler", "decoder", "parts", "started")

    def __init__(self, seq: int) -> None:
        self.seq = seq
        self.resident: list[int] = []  # tokens whose K/V this slot's stream holds, at positions 0..n-1
        self.job: Job | None = None
        self.pending: list[int] = []  # tokens still to feed (prompt rest, or the last sampled token)
        self.sampler: Any = None
        self.decoder: Any = None
        self.parts: list[str] = []
        self.started = 0.0


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def cells_for(tokens: int) -> int:
    """KV cells a sequence of ``tokens`` needs, rounded up to :data:`CELL_BLOCK`."""
    return max(CELL_BLOCK, -(-tokens // CELL_BLOCK) * CELL_BLOCK)


class Engine:
    """A llama.cpp context with ``n_seq`` sequences of ``n_ctx_seq`` cells each, and the decode loop over it.

    ``model`` is llama-cpp-python's ``_internals.LlamaModel`` (its ``model`` and ``vocab`` pointers are used).
    ``n_batch``: tokens per ``llama_decode`` call (and per micro-batch). Threads: ``n_threads`` for generation,
    ``n_threads_batch`` for prompt reading. ``abort()`` is polled by llama.cpp inside compute graphs.
    Raises RuntimeError when llama.cpp cannot create the context (not enough memory).
    """

    def __init__(self, llama_cpp: Any, model: Any, *, n_seq: int, n_ctx_seq: int, n_batch: int, n_threads: int,
                 n_threads_batch: int, abort: Callable[[], bool]) -> None:
        self._l = llama_cpp
        self._model = model
        self.n_seq = n_seq
        self.n_ctx_seq = n_ctx_seq
        self.n_batch = n_batch
        self.abort = abort
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_seq * n_ctx_seq
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        params.n_seq_max = n_seq
        params.kv_unified = False
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        params.n_threads = n_threads
        params.n_threads_batch = n_threads_batch
        params.no_perf = True
        ctx = llama_cpp.llama_init_from_model(model.model, params)
        if not ctx:
            raise RuntimeError(f"llama.cpp could not create a context of {n_seq} x {n_ctx_seq} tokens")
        self._ctx = ctx
        self._mem = llama_cpp.llama_get_memory(ctx)
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self._abort_cb = llama_cpp.ggml_abort_callback(lambda _data: bool(self.abort()))  # must outlive ctx
        llama_cpp.llama_set_abort_callback(ctx, self._abort_cb, ctypes.c_void_p(0))
        self._n_vocab = llama_cpp.llama_vocab_n_tokens(model.vocab)
        self._slots = [_Slot(i) for i in range(n_seq)]
        self.decodes = 0  # llama_decode calls so far (bench and tests)
        self.tokens = 0  # tokens sent to llama_decode so far (prompt and generated; bench and tests)

    # -- state -------------------------------------------------------------------------------------------------
    def resident(self, seq: int = 0) -> list[int]:
        """The tokens slot ``seq``'s KV stream holds (a copy)."""
        return list(self._slots[seq].resident)

    def forget(self) -> None:
        """Empty every slot's cache (after a cancel or an error, or to measure a cold start)."""
        self._l.llama_memory_clear(self._mem, True)
        for slot in self._slots:
            slot.resident = []

    def set_threads(self, n_threads: int, n_threads_batch: int) -> None:
        """Threads for generation and for prompt reading (llama_set_n_threads)."""
        self._l.llama_set_n_threads(self._ctx, n_threads, n_threads_batch)

    def close(self) -> None:
        """Free the context and the batch."""
        if self._ctx is not None:
            self._l.llama_batch_free(self._batch)
            self._l.llama_free(self._ctx)
            self._ctx = None

    # -- the loop ----------------------------------------------------------------------------------------------
    def run(self, jobs: Sequence[Job], cancel: CancelToken | None = None) -> None:
        """Run every job to its end, up to ``n_seq`` at once; results go into the jobs (see :class:`Job`).

        The caller checks each job's budget (``len(tokens) + max_tokens <= n_ctx_seq``; a scoring job needs one
        cell more than its prompt). Raises Cancelled (then no job is complete), RuntimeError when llama.cpp
        fails, and whatever a job's ``on_piece`` raises; after any exception every slot is emptied.
        """
        if self._ctx is None:
            raise RuntimeError("the model was closed")
        queue = deque(jobs)
        try:
            if len(jobs) > 1 and self.n_seq > 1:
                self._share_prefix(jobs, cancel)
            while queue or any(s.job is not None for s in self._slots):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                for slot in self._slots:
                    if slot.job is None and queue:
                        self._start(slot, queue.popleft())
                outputs = self._fill()
                self._decode(cancel)
                for slot, index in outputs:
                    self._after(slot, index)
        except BaseException:
            for slot in self._slots:
                self._release(slot)
            self.forget()
            raise

    def _decode(self, cancel: CancelToken | None) -> None:
        rc = self._l.llama_decode(self._ctx, self._batch)
        self.decodes += 1
        self.tokens += self._batch.n_tokens
        if rc == 2 or (rc != 0 and cancel is not None and cancel.cancelled):
            raise Cancelled()
        if rc != 0:
            raise RuntimeError(f"llama_decode failed (code {rc})")

    def _share_prefix(self, jobs: Sequence[Job], cancel: CancelToken | None) -> None:
        """Evaluate the prefix every job shares once, in slot 0, and copy it to the slots the jobs will use."""
        first = jobs[0].tokens
        shared = len(first) - MIN_CHUNK
        for job in jobs[1:]:
            shared = min(shared, common_prefix(first, job.tokens), len(job.tokens) - MIN_CHUNK)
        if shared < MIN_SHARED_PREFIX:
            return
        used = self._slots[: min(len(jobs), self.n_seq)]
        if all(common_prefix(s.resident, first) >= shared for s in used):
            return  # every slot already holds it (the previous round's rows)
        source = self._slots[0]
        keep = min(common_prefix(source.resident, first), shared)
        if 0 < shared - keep < MIN_CHUNK:
            keep = max(0, shared - MIN_CHUNK)
        self._l.llama_memory_seq_rm(self._mem, source.seq, keep, -1)
        source.resident = list(first[:keep])
        while len(source.resident) < shared:
            if cancel is not None:
                cancel.raise_if_cancelled()
            end = min(shared, len(source.resident) + self.n_batch)
            if 0 < shared - end < MIN_CHUNK:
                end = shared - MIN_CHUNK
            chunk = first[len(source.resident): end]
            self._batch.n_tokens = 0
            for token in chunk:
                self._add(source, token, len(source.resident), logits=False)
                source.resident.append(token)
            self._batch.logits[self._batch.n_tokens - 1] = True  # a decode without any output is not allowed
            self._decode(cancel)
        for slot in used[1:]:
            if common_prefix(slot.resident, first) < shared:
                self._l.llama_memory_seq_cp(self._mem, source.seq, slot.seq, -1, -1)  # the whole stream
                slot.resident = list(source.resident)

    def _start(self, slot: _Slot, job: Job) -> None:
        tokens = list(job.tokens)
        keep = max(0, min(common_prefix(slot.resident, tokens), len(tokens) - MIN_CHUNK))
        self._l.llama_memory_seq_rm(self._mem, slot.seq, keep, -1)
        slot.resident = slot.resident[:keep]
        slot.job = job
        slot.pending = tokens[keep:]
        slot.parts = []
        slot.started = time.perf_counter()
        job.evaluated = len(slot.pending)
        job.generated = []
        slot.sampler = None if job.score is not None else self._sampler(job)
        slot.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def _add(self, slot: _Slot, token: int, pos: int, *, logits: bool) -> int:
        b = self._batch
        i = b.n_tokens
        b.token[i] = token
        b.pos[i] = pos
        b.n_seq_id[i] = 1
        b.seq_id[i][0] = slot.seq
        b.logits[i] = logits
        b.n_tokens = i + 1
        return i

    def _fill(self) -> list[tuple[_Slot, int]]:
        """Put the next tokens into the batch; returns (slot, batch index) of the tokens whose logits are wanted.

        llama.cpp cuts a multi-stream batch into micro-batches that take the *same* number of tokens from every
        sequence in them, so a batch mixing one generated token of one sequence with a prompt piece of another
        would be cut into one-token pieces (see the module docstring). Hence a round is either a *reading*
        round - every slot still reading its prompt gives the same number ``k >= 2`` of prompt tokens (slots for
        which ``k`` would leave exactly one token wait a round) - or, when no slot is reading, a *generation*
        round with one token per generating slot."""
        self._batch.n_tokens = 0
        outputs: list[tuple[_Slot, int]] = []
        active = [s for s in self._slots if s.job is not None]
        reading = [s for s in active if not (s.job.generated and len(s.pending) == 1)]
        if not reading:
            for slot in active:
                token = slot.pending.pop()
                outputs.append((slot, self._add(slot, token, len(slot.resident), logits=True)))
                slot.resident.append(token)
            return outputs
        reading = reading[: max(1, self.n_batch // (MIN_CHUNK + 1))]
        shortest = min(len(s.pending) for s in reading)
        k = min(shortest, self.n_batch // len(reading))
        if k < shortest and any(len(s.pending) - k == 1 for s in reading):
            k -= 1  # every slot has more than k + 1 left then: none is left with one token
        for slot in reading:
            if len(slot.pending) - k == 1:
                continue  # would leave one token: this slot takes its piece in a later round
            for j, token in enumerate(slot.pending[:k]):
                last = j == len(slot.pending) - 1
                index = self._add(slot, token, len(slot.resident), logits=last)
                slot.resident.append(token)
                if last:
                    outputs.append((slot, index))
            del slot.pending[:k]
        return outputs

    def _after(self, slot: _Slot, index: int) -> None:
        """Use the logits at batch ``index`` for the slot's job: score it, or sample, stream and maybe finish."""
        job = slot.job
        assert job is not None
        if job.score is not None:
            import numpy as np

            row = np.ctypeslib.as_array(self._l.llama_get_logits_ith(self._ctx, index), shape=(self._n_vocab,))
            logits = row.astype(np.float64)
            logits -= logits.max()
            logp = logits - np.log(np.exp(logits).sum())
            job.logprobs = logp[list(job.score)]
            self._finish(slot, "stop")
            return
        token = self._l.llama_sampler_sample(slot.sampler.sampler, self._ctx, index)  # also accepts the token
        if self._l.llama_vocab_is_eog(self._model.vocab, token):
            self._finish(slot, "stop")
            return
        job.generated.append(token)
        piece = slot.decoder.decode(self._model.detokenize([token], special=False))
        if piece:
            slot.parts.append(piece)
            if job.on_piece is not None:
                job.on_piece(piece)
        if len(job.generated) >= job.params.max_tokens:
            self._finish(slot, "length")
        else:
            slot.pending = [token]

    def _finish(self, slot: _Slot, reason: str) -> None:
        job = slot.job
        assert job is not None
        tail = slot.decoder.decode(b"", final=True)
        if tail:
            slot.parts.append(tail)
            if job.on_piece is not None:
                job.on_piece(tail)
        job.text = "".join(slot.parts)
        job.finish_reason = reason
        job.seconds = time.perf_counter() - slot.started
        self._release(slot)

    def _release(self, slot: _Slot) -> None:
        slot.job = None
        slot.pending = []
        if slot.sampler is not None:
            slot.sampler.close()
            slot.sampler = None

    def _sampler(self, job: Job) -> Any:
        """The job's sampler chain, built as llama-cpp-python's ``Llama._init_sampler`` builds it."""
        from llama_cpp._internals import LlamaSampler

        p = job.params
        s = LlamaSampler()
        s.add_penalties(n_vocab=self._n_vocab, penalty_last_n=PENALTY_LAST_N, penalty_repeat=p.repeat_penalty,
                        penalty_freq=p.frequency_penalty, penalty_present=p.presence_penalty)
        if job.grammar is not None:
            text, root = job.grammar
            grammar = self._l.llama_sampler_init_grammar(self._model.vocab, text.encode("utf-8"), root.encode("utf-8"))
            if not grammar:
                s.close()
                raise RuntimeError("llama.cpp rejected the grammar")
            self._l.llama_sampler_chain_add(s.sampler, grammar)
        seed = p.seed & 0xFFFFFFFF
        if p.temperature < 0:
            s.add_dist(seed)
        elif p.temperature == 0:
            s.add_greedy()
        else:
            s.add_top_k(p.top_k)
            s.add_typical(TYPICAL_P, 1)
            s.add_top_p(p.top_p, 1)
            s.add_min_p(MIN_P, 1)
            s.add_temp(p.temperature)
            s.add_dist(seed)
        return s


__all__ = ["Engine", "Job", "common_prefix", "cells_for", "PENALTY_LAST_N", "MIN_P", "TYPICAL_P", "CELL_BLOCK"]
