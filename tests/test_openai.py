"""The openai backend against a scripted loopback server: streaming, retries (429 + Retry-After, 500, a
connection dropped mid-stream, a slow first byte), cancel, choices, JSON schema styles, secrets and policy."""

from __future__ import annotations

import threading
import time

import pytest

from docgen.cancel import CancelToken
from docgen.errors import Cancelled, PolicyError, ServerError
from docgen.llm import open_generator
from docgen.llm.base import Message, Request
from docgen.llm.openai import match_choice, public_url, retry_after
from docgen.model import GenerationParams
from tests.openai_servers import Play, fault_server

MSGS = (Message("system", "You write letters."), Message("user", "Write a reply."))
PARAMS = GenerationParams(max_tokens=50, seed=7)


def open_server(srv, **kw):
    kw.setdefault("backoff", 0.05)
    return open_generator("openai", base_url=srv.url, **kw)


def test_streams_the_answer_and_records_the_server_without_credentials():
    with fault_server() as srv:
        url = srv.url.replace("http://", "http://alice:s3cret@") + "?key=abc"
        gen = open_generator("openai", base_url=url, api_key="sk-test-123")
        pieces: list[str] = []
        out = gen.generate(MSGS, PARAMS, on_token=pieces.append)
        gen.close()
    assert out.text == "Hello from the test server." and "".join(pieces) == out.text and len(pieces) == 5
    assert out.tokens == 5 and out.prompt_tokens == 11 and out.finish_reason == "stop"
    assert srv.headers_seen[0]["Authorization"] == "Bearer sk-test-123"
    body = srv.bodies[0]
    assert body["model"] == "test-model" and body["seed"] == 7 and body["stream"] is True
    assert body["messages"][1] == {"role": "user", "content": "Write a reply."}
    assert gen.provenance == {"server_url": srv.url, "server_model": "test-model", "server_fingerprint": "fp_test"}
    assert "s3cret" not in repr(gen.provenance) and "sk-test" not in repr(gen.provenance)
    assert public_url("https://u:p@h.example/v1?api-key=x") == "https://h.example/v1"


def test_429_waits_what_retry_after_says_then_succeeds():
    with fault_server() as srv:
        srv.plays = [Play("status", status=429, headers={"Retry-After": "1"}), Play()]
        gen = open_server(srv)
        t0 = time.monotonic()
        out = gen.generate(MSGS, PARAMS)
        waited = time.monotonic() - t0
        gen.close()
    assert out.text.startswith("Hello") and len(srv.bodies) == 2
    assert waited >= 0.95  # the backoff alone (0.05 s) would have been far shorter
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0 and retry_after("9999") == 120.0


def test_500s_are_retried_then_reported_naming_server_and_section():
    with fault_server() as srv:
        srv.plays = [Play("status", status=500), Play("status", status=500), Play()]
        gen = open_server(srv, retries=2)
        assert gen.generate(MSGS, PARAMS).text.startswith("Hello") and len(srv.bodies) == 3
        srv.plays = [Play("status", status=503)]
        with pytest.raises(ServerError) as err:
            gen.generate_many([Request(MSGS, PARAMS, what="section 'body' (row 3 of tickets.csv)")])
        gen.close()
    msg = str(err.value)
    assert srv.url in msg and "section 'body' (row 3 of tickets.csv)" in msg and "3 tries" in msg and "503" in msg


def test_dropped_connection_mid_stream_is_retried_without_streaming_text_twice():
    with fault_server() as srv:
        srv.plays = [Play("drop", cut=3), Play()]
        gen = open_server(srv)
        pieces: list[str] = []
        out = gen.generate(MSGS, PARAMS, on_token=pieces.append)
        gen.close()
    assert len(srv.bodies) == 2 and out.text == "Hello from the test server."
    assert "".join(pieces) == out.text  # the repeat's first three words were not shown again


def test_slow_first_byte_is_waited_for_within_the_read_timeout_and_retried_past_it():
    with fault_server() as srv:
        srv.plays = [Play("slow", delay=1.0)]
        gen = open_server(srv, read_timeout=5)
        assert gen.generate(MSGS, PARAMS).text.startswith("Hello") and len(srv.bodies) == 1
        gen.close()
        srv.bodies.clear()
        gen = open_server(srv, read_timeout=0.3, retries=1)
        with pytest.raises(ServerError, match="read timeout"):
            gen.generate(MSGS, PARAMS)
        gen.close()
    assert len(srv.bodies) == 2


def test_cancel_closes_the_open_request_at_once():
    with fault_server() as srv:
        srv.plays = [Play(text=" ".join(["word"] * 200), delay=0.05)]
        gen = open_server(srv)
        cancel = CancelToken()
        threading.Timer(0.3, cancel.cancel).start()
        t0 = time.monotonic()
        with pytest.raises(Cancelled):
            gen.generate(MSGS, PARAMS, cancel=cancel)
        took = time.monotonic() - t0
        gen.close()
        deadline = time.monotonic() + 3
        while srv.closed == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert took < 1.0 and srv.closed == 1  # the server saw the connection go: it stops writing


def test_concurrent_requests_come_back_in_order_and_at_most_concurrency_at_once():
    with fault_server() as srv:
        srv.plays = [Play(text="answer", delay=0.2)]
        gen = open_server(srv, concurrency=3)
        reqs = [Request((Message("user", f"question {i}"),), GenerationParams(seed=i)) for i in range(6)]
        t0 = time.monotonic()
        outs = gen.generate_many(reqs)
        took = time.monotonic() - t0
        gen.close()
    assert [o.text for o in outs] == ["answer"] * 6 and sorted(b["seed"] for b in srv.bodies) == list(range(6))
    assert 0.35 < took < 1.1  # two waves of three, not six in turn (1.2 s) nor all at once (0.2 s)


def test_a_failed_gathered_call_is_not_resent_when_the_scheduler_retries_one_request_at_a_time():
    with fault_server() as srv:
        srv.fail_text = "bad"
        gen = open_server(srv, retries=0)
        a, b = Request((Message("user", "good"),), PARAMS), Request((Message("user", "bad"),), PARAMS)
        with pytest.raises(ServerError):
            gen.generate_many([a, b])
        sent = len(srv.bodies)
        assert gen.generate_many([a])[0].text.startswith("Hello")
        with pytest.raises(ServerError):
            gen.generate_many([b])
        gen.close()
    assert sent == 2 and len(srv.bodies) == 2


def test_choice_scored_from_logprobs():
    top = [{"token": "Neg", "logprob": -0.4}, {"token": "positive", "logprob": -1.5}, {"token": "neutral",
                                                                                          "logprob": -2.0}]
    with fault_server() as srv:
        srv.plays = [Play(text="Neg", logprobs=top)]
        gen = open_server(srv)
        out = gen.generate(MSGS, GenerationParams(temperature=0.0), choices=("positive", "neutral", "negative"))
        gen.close()
    assert out.text == "negative"
    assert srv.bodies[0]["logprobs"] is True and srv.bodies[0]["max_tokens"] == 1


def test_choice_without_logprobs_is_constrained_then_matched():
    with fault_server() as srv:
        srv.plays = [Play(text="I think it is Neutral."), Play(text="Neutral, mostly.")]
        gen = open_server(srv)
        out = gen.generate(MSGS, GenerationParams(temperature=0.0), choices=("positive", "neutral", "negative"))
        gen.close()
    assert out.text == "neutral"
    constrained = srv.bodies[1]
    assert constrained["guided_choice"] == ["positive", "neutral", "negative"]
    assert constrained["grammar"].startswith("root ::= ") and "logprobs" not in constrained
    assert match_choice("NEGATIVE!", ["positive", "negative"]) == "negative"
    assert match_choice("no idea", ["positive", "negative"]) is None


def test_json_schema_falls_back_to_json_object_style_when_refused():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    refusal = '{"detail": "Input should be \'text\' or \'json_object\'"}'
    with fault_server() as srv:
        srv.plays = [Play("status", status=422, body=refusal), Play(text='{"a": 1}')]
        gen = open_server(srv)
        out = gen.generate(MSGS, PARAMS, schema=schema)
        gen.close()
    assert out.text == '{"a": 1}'
    assert srv.bodies[0]["response_format"]["type"] == "json_schema"
    assert srv.bodies[1]["response_format"] == {"type": "json_object", "schema": schema}


def test_a_server_refusing_extension_fields_gets_plain_openai_requests():
    refusal = '{"error": {"message": "Unrecognized request argument supplied: top_k"}}'
    with fault_server() as srv:
        srv.plays = [Play("status", status=400, body=refusal), Play()]
        gen = open_server(srv)
        gen.generate(MSGS, PARAMS)
        gen.generate(MSGS, PARAMS)
        gen.close()
    assert "top_k" in srv.bodies[0] and "top_k" not in srv.bodies[1] and "top_k" not in srv.bodies[2]


def test_unknown_model_and_unreachable_server_are_named():
    with fault_server() as srv:
        srv.models = ["a", "b"]
        with pytest.raises(ServerError, match="serves several models .a, b.; choose one with --model-name"):
            open_server(srv)
        with pytest.raises(ServerError, match="does not serve the model 'c'"):
            open_server(srv, model="c")
        port = srv.server_address[1]
    with pytest.raises(ServerError, match=f"127.0.0.1:{port}/v1 failed after 2 tries.*cannot connect"):
        open_generator("openai", base_url=f"http://127.0.0.1:{port}", retries=1, backoff=0.01)


def test_policy_can_require_tls_for_other_machines():
    with pytest.raises(PolicyError, match="requires TLS"):
        open_generator("openai", base_url="http://inference.example.com:8080/v1", require_tls=True)
    with fault_server() as srv:  # loopback stays allowed: the prompt never leaves this machine
        open_server(srv, require_tls=True).close()


def write_policy(text: str) -> None:
    from docgen import paths

    paths.policy_file().parent.mkdir(parents=True, exist_ok=True)
    paths.policy_file().write_text(text, encoding="utf-8")


def test_policy_pins_the_server_and_its_key_is_never_shown(capsys):
    from docgen.cli import main
    from docgen.settings import load_settings

    write_policy('backend = "openai"\nserver_url = "https://llm.example.internal/v1"\nserver_model = "qwen"\n'
                 'server_api_key = "sk-policy-secret"\nserver_require_tls = true\n')
    settings = load_settings()
    assert settings.api_key() == "sk-policy-secret" and "sk-policy" not in repr(settings)
    code = main(["-t", "service-reply", "-d", "x.csv", "-o", "out", "--base-url", "http://127.0.0.1:9/v1"])
    assert code == 2 and "server_url' is locked" in capsys.readouterr().err
    main(["doctor"])
    out = capsys.readouterr().out
    assert "server_api_key=<set>" in out and "sk-policy-secret" not in out


def test_policy_without_remote_backends_refuses_openai(capsys):
    from docgen.cli import main

    write_policy("allow_remote = false\n")
    code = main(["-t", "service-reply", "-d", "x.csv", "-o", "out", "--backend", "openai", "--base-url",
                 "http://127.0.0.1:9/v1"])
    assert code == 2 and "backend 'openai' is not allowed" in capsys.readouterr().err


def test_api_key_from_the_environment(monkeypatch):
    from docgen.llm import open_configured
    from docgen.settings import load_settings

    monkeypatch.setenv("DOCGEN_SERVER_API_KEY", "sk-env-456")
    with fault_server() as srv:
        settings = load_settings().with_overrides(backend="openai", server_url=srv.url)
        gen = open_configured(settings)
        gen.generate(MSGS, PARAMS)
        gen.close()
    assert srv.headers_seen[0]["Authorization"] == "Bearer sk-env-456"


def test_doctor_checks_the_server(capsys):
    from docgen.cli import main

    with fault_server() as srv:
        write_policy(f'backend = "openai"\nserver_url = "{srv.url}"\n')
        main(["doctor"])
    out = capsys.readouterr().out
    assert "server" in out and "model test-model" in out


def test_automatic_jobs_follow_the_servers_slots_and_context():
    with fault_server() as srv:
        gen = open_server(srv, concurrency=0)
        assert gen.suggested_jobs == 4 and gen.concurrency == 4 and gen.n_ctx == 4096  # nothing reported
        gen.close()
        srv.props = {"total_slots": 3, "default_generation_settings": {"n_ctx": 2048}}  # llama-server -np 3
        gen = open_server(srv, concurrency=0)
        assert gen.suggested_jobs == 3 and gen.concurrency == 3 and gen.n_ctx == 2048
        gen.close()
