"""The ``openai`` backend: any OpenAI-compatible inference server over HTTP (httpx, no SDK).

Servers it is written for (docs/scaling.md): llama.cpp's ``llama-server`` (parallel slots, continuous batching,
``cache_prompt``, ``grammar``, ``json_schema``), llama-cpp-python's server, vLLM (prefix caching,
``guided_choice``), Ollama, LM Studio, LocalAI. Only ``POST /chat/completions`` (streamed, server-sent events)
and ``GET /models`` are required; ``/props`` (llama-server: the context window) and a tokenizer endpoint
(``/tokenize`` of llama-server and vLLM, ``/extras/tokenize/count`` of llama-cpp-python) are used when there.

- **Requests.** The OpenAI fields plus the llama.cpp/vLLM sampling extensions docgen records (``top_k``,
  ``repeat_penalty``/``repetition_penalty``, ``cache_prompt``); a server that refuses unknown fields (HTTP 400
  naming one) is asked again with the OpenAI fields only, and that is remembered.
- **Concurrency.** :meth:`OpenAIGenerator.generate_many` sends up to ``concurrency`` requests at once on one
  asyncio event loop (httpx's async client, one connection pool), each streamed; callbacks run on the calling
  thread. Results are in request order and, with the same seeds, have the same content as one request after
  the other (the server's sampling is seeded per request; see docs/scaling.md for the batch-size caveat of
  llama.cpp's ``cache_prompt``).
- **Faults.** Connection errors, timeouts, a connection dropped mid-answer, HTTP 429 and 5xx are retried
  ``retries`` times with exponential backoff (``backoff`` s, doubling, at most :data:`MAX_BACKOFF`), waiting
  what ``Retry-After`` asks instead when the server sends it (at most :data:`MAX_RETRY_AFTER` s); then the request
  fails with :class:`~docgen.errors.ServerError` naming the server and the section. Text already streamed is
  not streamed twice after a retry (the repeat's identical beginning is held back). Other 4xx answers are not
  retried. ``connect_timeout`` bounds connecting, ``read_timeout`` the wait for each next byte (the first one
  included: a long prompt on a busy CPU server can take minutes).
- **Cancel.** The :class:`~docgen.cancel.CancelToken` is polled every 50 ms; cancelling closes every open
  request (the server stops generating) and raises Cancelled.
- **Choice sections** (``choices``, temperature 0): the first answer token's ``top_logprobs`` are scored per
  choice (each choice's spellings as given, lower case and Capitalized, log-sum-exp), calibrated by the
  content-free prompt where the messages carry one, as the llama.cpp backend does. A server without logprobs
  gets constrained decoding (``grammar`` for llama.cpp servers, ``guided_choice`` for vLLM) and, where the
  server ignores both (Ollama), the plain answer is matched to a choice. **JSON sections** use the server's JSON
  schema support (``response_format`` ``json_schema``, or llama-cpp-python's ``json_object`` + ``schema``).
- **Secrets.** The API key goes only into the ``Authorization`` header; URLs are shown and recorded without
  user, password or query (:func:`public_url`).
"""

from __future__ import annotations

import asyncio
import codecs
import dataclasses
import json
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from docgen.cancel import CancelToken
from docgen.errors import Cancelled, ContextOverflow, PolicyError, ServerError
from docgen.llm.base import Generation, IndexedTokenCallback, Message, Request, TokenCallback, request_stream
from docgen.model import GenerationParams

log = logging.getLogger(__name__)

#: seconds; the longest wait between retries of one request (exponential backoff stops growing here)
MAX_BACKOFF = 30.0
#: seconds; the longest ``Retry-After`` docgen honours (a longer one is capped, not refused)
MAX_RETRY_AFTER = 120.0
#: how many top tokens to ask for when scoring choices (OpenAI's documented maximum is 20)
TOP_LOGPROBS = 20
#: tokens added per message for chat markup when counting (ChatML uses 4-5, Llama 3 about 5)
MESSAGE_OVERHEAD = 8
#: bytes per token assumed when the server offers no tokenizer endpoint (English text runs about 4)
BYTES_PER_TOKEN = 3
#: requests in flight for ``--jobs 0`` when the server does not say how many it serves at once (a server queues
#: what it cannot start, so a few more than its slots costs little; fewer leaves slots idle)
AUTO_JOBS = 4
_RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_LOOPBACK = re.compile(r"^(localhost|127(\.\d{1,3}){3}|\[?::1\]?)$", re.IGNORECASE)


def normalize_url(url: str) -> str:
    """The API base URL: ``http://host:8080`` -> ``http://host:8080/v1``; a URL with a path is kept (no trailing
    ``/``). Raises ServerError for a URL that is not http(s) with a host."""
    text = (url or "").strip().rstrip("/")
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ServerError(f"The server URL {public_url(text)!r} is not a valid URL ({exc}). Use for example "
                          "http://127.0.0.1:8080/v1.") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ServerError(f"The server URL {public_url(text)!r} must start with http:// or https:// and name a host, "
                          "for example http://127.0.0.1:8080/v1 (set server_url in Settings or --base-url).")
    if parsed.path in ("", "/"):
        text += "/v1"
    return text


def public_url(url: str) -> str:
    """``url`` without user, password, query and fragment: what logs, reports and provenance may show."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return re.sub(r"//[^/@]*@", "//", str(url)).split("?")[0]
    return str(parsed.copy_with(username=None, password=None, query=None, fragment=None))


def is_loopback(url: str) -> bool:
    """True when ``url``'s host is this machine (localhost, 127.0.0.0/8, ::1)."""
    try:
        return bool(_LOOPBACK.match(httpx.URL(url).host or ""))
    except (httpx.InvalidURL, TypeError):
        return False


def check_url_policy(url: str, *, require_tls: bool) -> None:
    """Raise PolicyError when ``require_tls`` (policy ``server_require_tls``) and ``url`` is plain http to another
    machine: prompts hold the data, so they must not cross a network unencrypted."""
    if require_tls and httpx.URL(url).scheme != "https" and not is_loopback(url):
        raise PolicyError(f"Your IT department's policy requires TLS for inference servers on other machines: "
                          f"{public_url(url)} is plain http. Use its https:// address, or ask IT.")


def ssl_context() -> Any:
    """The operating system's certificate store (truststore: what a company's TLS proxy or internal CA is trusted
    by), or True (httpx's certifi bundle) without it."""
    try:
        import ssl

        import truststore

        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    except ImportError:  # pragma: no cover - truststore is a dependency
        return True


class _Retry(Exception):
    """A failure worth another try; ``after`` is the server's Retry-After in seconds (None: back off)."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class _Refused(Exception):
    """A 4xx answer: not retried as is; ``status``/``detail`` say what the server objected to."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status, self.detail = status, detail


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), capped at
    :data:`MAX_RETRY_AFTER`; None when absent or unreadable (RFC 9110, section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - (time.time() if now is None else now)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _detail(body: bytes) -> str:
    """The server's error message from a JSON error body (OpenAI ``{"error": {"message"}}``, FastAPI
    ``{"detail"}``), else the start of the body."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:300] or "(no message)"
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data))
        if isinstance(err, dict):
            return str(err.get("message") or err)[:300]
        return str(err)[:300]
    return text[:300]


def _score(top: Sequence[dict[str, Any]], choices: Sequence[str]) -> list[float] | None:
    """Per choice, the log-sum-exp of the logprobs of the top tokens that begin one of its spellings (and no other
    choice's); None when no choice got any (the server's top tokens name none of them)."""
    spellings = [{c, c.lower(), c.capitalize()} for c in choices]
    mass: list[list[float]] = [[] for _ in choices]
    for entry in top:
        token = str(entry.get("token", "")).strip()
        if not token:
            continue
        hits = [i for i, spells in enumerate(spellings) if any(s.startswith(token) for s in spells)]
        if len(hits) == 1 and isinstance(entry.get("logprob"), (int, float)):
            mass[hits[0]].append(float(entry["logprob"]))
    if not any(mass):
        return None
    floor = min((float(e["logprob"]) for e in top if isinstance(e.get("logprob"), (int, float))), default=-30.0)
    out = []
    for values in mass:
        if not values:
            out.append(floor - math.log(2.0))  # below everything seen: the true value is at most the floor
            continue
        peak = max(values)
        out.append(peak + math.log(sum(math.exp(v - peak) for v in values)))
    return out


def match_choice(text: str, choices: Sequence[str]) -> str | None:
    """The choice a free answer names: the whole answer (case, spaces and end punctuation aside), else the
    choice whose word occurs first in it; None when it names none."""
    plain = text.strip().strip(".!\"'*` \n").lower()
    for choice in choices:
        if plain == choice.lower():
            return choice
    found = []
    for choice in choices:
        m = re.search(rf"(?<!\w){re.escape(choice.lower())}(?!\w)", text.lower())
        if m:
            found.append((m.start(), -len(choice), choice))
    return min(found)[2] if found else None


class OpenAIGenerator:
    """A model served by an OpenAI-compatible server. Construct once per run (it checks the server at once).

    ``base_url``: the API base (``http://127.0.0.1:8080/v1``, :func:`normalize_url`); ``model``: the name to ask
    for (empty: the one model ``/models`` lists); ``api_key``: sent as a Bearer token; ``n_ctx``: the context
    window when the server does not report one (llama-server's ``/props`` does); ``concurrency``: requests in
    flight at once in :meth:`generate_many` (``--jobs``; 0: :attr:`suggested_jobs`); timeouts in seconds; ``retries``/``backoff``: see the
    module docstring. ``transport``: an httpx transport (tests). Raises ServerError when the server cannot be
    reached or does not serve ``model``, PolicyError when ``require_tls`` forbids the URL.
    """

    backend = "openai"
    path = None
    quantization = ""
    warnings: tuple[str, ...] = ()

    def __init__(self, base_url: str, *, model: str = "", api_key: str = "", n_ctx: int = 4096, concurrency: int = 1,
                 connect_timeout: float = 10.0, read_timeout: float = 300.0, retries: int = 4, backoff: float = 1.0,
                 require_tls: bool = False, transport: httpx.AsyncBaseTransport | None = None) -> None:
        given = httpx.URL(normalize_url(base_url))
        # credentials and query parameters (Azure's api-version) travel beside the URL, never inside it
        self._auth = httpx.BasicAuth(given.username, given.password) if given.username and not api_key else None
        self._params = dict(given.params)
        self.base_url = str(given.copy_with(username=None, password=None, query=None, fragment=None)).rstrip("/")
        check_url_policy(self.base_url, require_tls=require_tls)
        self.url = public_url(self.base_url)
        self.root = re.sub(r"/v1$", "", self.base_url)
        self._auto = int(concurrency) <= 0
        self.concurrency = max(1, int(concurrency))
        self.retries, self.backoff = max(0, int(retries)), max(0.0, float(backoff))
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout, write=connect_timeout + 30, pool=None)
        self._headers = {"User-Agent": "docgen", **({"Authorization": f"Bearer {api_key}"} if api_key else {})}
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop = asyncio.new_event_loop()
        self._plain_only = False  # the server refused the llama.cpp/vLLM extensions: send OpenAI fields only
        self._json_style = "json_schema"
        self._logprobs: bool | None = None  # None: not known yet
        self._tokenizer: str | None = None  # "tokenize" | "extras" | "" (none)
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._calibration: dict[tuple, list[float] | None] = {}
        self._carry: dict[str, Generation | BaseException] = {}
        self.fingerprint = ""
        self.n_ctx = n_ctx
        self._slots: Any = None
        #: documents in flight ``--jobs 0`` (automatic) picks: llama-server's slot count, else :data:`AUTO_JOBS`
        self.suggested_jobs = AUTO_JOBS
        try:
            self.model = self._run(self._discover(model))
        except BaseException:
            self.close()
            raise
        self.name = self.model

    # -- provenance -------------------------------------------------------------------------------------------
    @property
    def provenance(self) -> dict[str, str]:
        """What documents record about the server: its URL (no credentials), the model name it reports and its
        ``system_fingerprint`` (the server build and configuration; "" when it sends none)."""
        return {"server_url": self.url, "server_model": self.model, "server_fingerprint": self.fingerprint}

    def identity(self) -> str:
        """What identifies this model for resuming a batch: server URL and model name (not the fingerprint, which
        changes with server restarts on some servers)."""
        return f"openai {self.url} {self.model}"

    # -- event loop ---------------------------------------------------------------------------------------------
    def _run(self, coro: Any) -> Any:
        if self._loop.is_closed():
            coro.close()
            raise ServerError(f"The connection to the server at {self.url} was closed; open it again.")
        return self._loop.run_until_complete(coro)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            kwargs: dict[str, Any] = {"transport": self._transport} if self._transport is not None else {
                "verify": ssl_context(), "trust_env": not is_loopback(self.base_url)}
            self._client = httpx.AsyncClient(timeout=self._timeout, headers=self._headers, auth=self._auth,
                                             params=self._params, **kwargs)
        return self._client

    def _fail(self, what: str, reason: str, tries: int = 1) -> ServerError:
        hint = ("Check that the server is running and reachable (docgen doctor, or Settings -> Test connection), "
                "or lower --jobs if it is overloaded.")
        after = f" after {tries} tries" if tries > 1 else ""
        return ServerError(f"The inference server at {self.url} failed{after} on {what}: {reason}. {hint}")

    async def _get(self, url: str, what: str) -> httpx.Response:
        return await self._retrying(lambda: self._get_once(url), what)

    async def _get_once(self, url: str) -> httpx.Response:
        try:
            resp = await self._http().get(url)
        except httpx.TransportError as exc:
            raise _Retry(_transport_reason(exc)) from exc
        if resp.status_code in _RETRY_STATUS:
            raise _Retry(f"HTTP {resp.status_code}", retry_after(resp.headers.get("Retry-After")))
        return resp

    async def _retrying(self, attempt: Callable[[], Any], what: str) -> Any:
        for n in range(self.retries + 1):
            try:
                return await attempt()
            except _Retry as exc:
                if n == self.retries:
                    raise self._fail(what, str(exc), n + 1) from exc
                delay = exc.after if exc.after is not None else min(MAX_BACKOFF, self.backoff * 2 ** n)
                log.info("server %s: %s on %s; try %d of %d in %.1f s", self.url, exc, what, n + 2,
                         self.retries + 1, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _discover(self, wanted: str) -> str:
        """The model to use (``wanted``, or the only one served) and the server's context window."""
        resp = await self._get(self.base_url + "/models", "the list of models")
        if resp.status_code in (401, 403):
            raise ServerError(f"The inference server at {self.url} refused docgen's credentials (HTTP "
                              f"{resp.status_code}: {_detail(resp.content)}). Set the API key in Settings (server) or "
                              f"the DOCGEN_SERVER_API_KEY environment variable.")
        served: list[dict[str, Any]] = []
        if resp.status_code == 200:
            try:
                served = [m for m in resp.json().get("data", []) if isinstance(m, dict) and m.get("id")]
            except (ValueError, AttributeError):
                served = []
        elif resp.status_code != 404:
            raise ServerError(f"The inference server at {self.url} answered HTTP {resp.status_code} to "
                              f"GET /models: {_detail(resp.content)}. Is {self.url} the API address (usually ending "
                              "in /v1)?")
        ids = [str(m["id"]) for m in served]
        if wanted:
            if ids and wanted not in ids:
                raise ServerError(f"The inference server at {self.url} does not serve the model '{wanted}'; it serves "
                                  f"{', '.join(ids)}. Set server_model (--model-name) to one of these.")
            model = wanted
        elif len(ids) == 1:
            model = ids[0]
        elif not ids:
            raise ServerError(f"The inference server at {self.url} lists no models; name the model with "
                              "--model-name (server_model in Settings).")
        else:
            raise ServerError(f"The inference server at {self.url} serves several models ({', '.join(ids)}); choose "
                              "one with --model-name (server_model in Settings).")
        entry = next((m for m in served if m.get("id") == model), {})
        limit = entry.get("max_model_len") or entry.get("context_length")
        try:
            props = await self._http().get(self.root + "/props")
            if props.status_code == 200:
                data = props.json()
                self._slots = data.get("total_slots")
                limit = limit or (data.get("default_generation_settings") or {}).get("n_ctx")
        except (httpx.HTTPError, ValueError, AttributeError):
            pass
        if isinstance(limit, int) and limit > 0:
            self.n_ctx = limit
        self.suggested_jobs = int(self._slots) if isinstance(self._slots, int) and self._slots > 0 else AUTO_JOBS
        if self._auto:
            self.concurrency = self.suggested_jobs
        return model

    # -- tokens -------------------------------------------------------------------------------------------------
    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens of the chat prompt: each message's content counted by the server's tokenizer when it offers one
        (``/tokenize``, ``/extras/tokenize/count``; cached), else estimated at :data:`BYTES_PER_TOKEN` bytes per
        token, plus :data:`MESSAGE_OVERHEAD` per message and for the reply header."""
        return self._run(self._count_messages(messages))

    async def _count_messages(self, messages: Sequence[Message]) -> int:
        total = MESSAGE_OVERHEAD
        for m in messages:
            total += await self._count(m.content) + MESSAGE_OVERHEAD
        return total

    async def _count(self, text: str) -> int:
        if text in self._counts:
            self._counts.move_to_end(text)
            return self._counts[text]
        n = None
        if self._tokenizer != "":
            try:
                n = await self._tokenize(text)
            except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError):
                n = None
        if n is None:
            n = -(-len(text.encode("utf-8")) // BYTES_PER_TOKEN)
        self._counts[text] = n
        if len(self._counts) > 4096:
            self._counts.popitem(last=False)
        return n

    async def _tokenize(self, text: str) -> int | None:
        order = [self._tokenizer] if self._tokenizer else ["tokenize", "extras"]
        for kind in order:
            if kind == "tokenize":
                resp = await self._http().post(self.root + "/tokenize",
                                               json={"content": text, "prompt": text, "model": self.model,
                                                     "add_special": False, "add_special_tokens": False})
            else:
                resp = await self._http().post(self.root + "/extras/tokenize/count", json={"input": text})
            if resp.status_code == 200:
                data = resp.json()
                count = data.get("count", len(data["tokens"]) if isinstance(data.get("tokens"), list) else None)
                if isinstance(count, int):
                    self._tokenizer = kind
                    return count
        if self._tokenizer is None:
            self._tokenizer = ""
        return None

    # -- generation ---------------------------------------------------------------------------------------------
    def generate(self, messages: Sequence[Message], params: GenerationParams, *, choices: Sequence[str] = (),
                 on_token: TokenCallback | None = None, cancel: CancelToken | None = None,
                 schema: dict[str, Any] | None = None) -> Generation:
        """See :meth:`docgen.llm.base.Generator.generate`; one request of :meth:`generate_many`."""
        return self.generate_many([Request(messages, params, choices, schema, on_token)], cancel=cancel)[0]

    def generate_many(self, requests: Sequence[Request], *, on_token: IndexedTokenCallback | None = None,
                      cancel: CancelToken | None = None) -> list[Generation]:
        """Send ``requests``, up to ``concurrency`` at once; one Generation per request, in order (contract of
        :func:`docgen.llm.base.generate_all`). Raises ServerError (the first failing request's, after every
        request ended), ContextOverflow, Cancelled.

        When a call fails, each request's outcome is kept for the next call that asks for exactly that request
        (once), so the scheduler's retry of the same requests one document at a time
        (:func:`docgen.llm.schedule.run_many`) neither resends those that succeeded nor retries the failed ones
        a second time."""
        if cancel:
            cancel.raise_if_cancelled()
        keys = [_key(r) for r in requests]
        carried = {i: self._carry.pop(k) for i, k in enumerate(keys) if k in self._carry}
        if not carried:
            self._carry.clear()  # a new round: what an earlier failed call left is stale
        outcomes = self._run(self._all(requests, on_token, cancel, carried))
        failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
        if failure is not None:
            if isinstance(failure, Cancelled):
                raise failure
            if len(requests) > 1:
                self._carry = {k: o for k, o in zip(keys, outcomes, strict=True)}
            raise failure
        return list(outcomes)

    async def _all(self, requests: Sequence[Request], on_token: IndexedTokenCallback | None,
                   cancel: CancelToken | None, carried: dict[int, Any]) -> list[Any]:
        slots = asyncio.Semaphore(self.concurrency)
        tasks = [asyncio.ensure_future(self._carried(carried[i])) if i in carried else
                 asyncio.ensure_future(self._one(req, request_stream(req, i, on_token), slots, cancel))
                 for i, req in enumerate(requests)]
        watcher = asyncio.ensure_future(self._watch(cancel, tasks)) if cancel else None
        try:
            results = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            if watcher:
                watcher.cancel()
        if cancel and cancel.cancelled:
            return [Cancelled() for _ in results]
        return [Cancelled() if isinstance(r, asyncio.CancelledError) else r for r in results]

    @staticmethod
    async def _carried(outcome: Any) -> Any:
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    @staticmethod
    async def _watch(cancel: CancelToken, tasks: list[asyncio.Future]) -> None:
        while not cancel.cancelled:
            if all(t.done() for t in tasks):
                return
            await asyncio.sleep(0.05)
        for t in tasks:
            t.cancel()  # leaving `async with client.stream(...)` closes the connection: the server stops

    async def _one(self, req: Request, stream: TokenCallback | None, slots: asyncio.Semaphore,
                   cancel: CancelToken | None) -> Generation:
        start = time.perf_counter()
        what = req.what or "a section"
        prompt_tokens = await self._count_messages(req.messages)
        if prompt_tokens + req.params.max_tokens > self.n_ctx:
            raise ContextOverflow(
                f"The prompt of {what} takes about {prompt_tokens} tokens and the section may write "
                f"{req.params.max_tokens} more, but the server's context window holds {self.n_ctx}. Start the "
                "server with a larger context (llama-server -c), lower max_tokens, or shorten the prompt.")
        try:
            if req.choices and req.schema is None:
                text, tokens, usage = await self._choice(req, stream, slots, what)
                finish = "stop"
            else:
                body = self._body(req.messages, req.params, schema=req.schema)
                text, tokens, finish, usage = await self._complete(body, stream, slots, what)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise self._fail(what, f"its answer could not be read ({type(exc).__name__}: {exc})") from exc
        return Generation(text, usage.get("completion_tokens", tokens), usage.get("prompt_tokens", prompt_tokens),
                          usage.get("evaluated", usage.get("prompt_tokens", prompt_tokens)),
                          time.perf_counter() - start, finish)

    async def _choice(self, req: Request, stream: TokenCallback | None, slots: asyncio.Semaphore,
                      what: str) -> tuple[str, int, dict[str, Any]]:
        """A choice answer: scored from logprobs (greedy), else constrained, else matched (module docstring)."""
        choices = list(req.choices)
        if req.params.temperature <= 0 and self._logprobs is not False:
            body = self._body(req.messages, dataclasses.replace(req.params, max_tokens=1), logprobs=True)
            _text, _n, _finish, usage = await self._complete(body, None, slots, what)
            top = usage.get("top")
            scores = _score(top, choices) if top is not None else None
            if top is None:
                self._logprobs = False  # this server sends no logprobs: constrain instead, from now on
            elif scores is not None:
                self._logprobs = True
                free = tuple(getattr(req.messages, "content_free", ()))
                if free:
                    key = (tuple((m.role, m.content) for m in free), tuple(choices))
                    if key not in self._calibration:
                        fbody = self._body(free, dataclasses.replace(req.params, max_tokens=1), logprobs=True)
                        _t, _n, _f, fusage = await self._complete(fbody, None, slots, what)
                        self._calibration[key] = _score(fusage.get("top") or (), choices)
                    calib = self._calibration[key]
                    if calib is not None:
                        scores = [s - c for s, c in zip(scores, calib, strict=True)]
                best = choices[max(range(len(choices)), key=lambda i: scores[i])]
                if stream:
                    stream(best)
                return best, 1, usage
        body = self._body(req.messages, req.params, choices=choices)
        text, tokens, _finish, usage = await self._complete(body, None, slots, what)
        best = match_choice(text, choices)
        if best is None:
            raise ServerError(f"The model at {self.url} answered {text.strip()[:80]!r} for {what}, which is none of "
                              f"{', '.join(choices)}; this server constrains no answers (no logprobs, grammar or "
                              "guided_choice). Use a llama.cpp or vLLM server, or a model that follows the instruction.")
        if stream:
            stream(best)
        return best, tokens, usage

    def _body(self, messages: Sequence[Message], params: GenerationParams, *, choices: Sequence[str] = (),
              schema: dict[str, Any] | None = None, logprobs: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": params.seed,
            "frequency_penalty": params.frequency_penalty,
            "presence_penalty": params.presence_penalty,
        }
        if not self._plain_only:
            body.update({"top_k": params.top_k, "repeat_penalty": params.repeat_penalty,
                         "repetition_penalty": params.repeat_penalty, "cache_prompt": True,
                         "stream_options": {"include_usage": True}})
            if choices:
                from docgen.llm.llamacpp import choice_grammar

                body.update({"grammar": choice_grammar(choices), "guided_choice": list(choices)})
        if logprobs:
            body.update({"logprobs": True, "top_logprobs": TOP_LOGPROBS})
        if schema is not None:
            body["response_format"] = ({"type": "json_schema", "json_schema": {"name": "section", "schema": schema}}
                                       if self._json_style == "json_schema" else
                                       {"type": "json_object", "schema": schema})
        return body

    async def _complete(self, body: dict[str, Any], stream: TokenCallback | None, slots: asyncio.Semaphore,
                        what: str) -> tuple[str, int, str, dict[str, Any]]:
        """POST one streamed chat completion with retries; (text, content deltas, finish reason, usage) where usage
        may hold ``prompt_tokens``, ``completion_tokens``, ``evaluated`` and ``top`` (first token's top logprobs;
        None when the server sent no logprobs)."""
        emitted = [""]

        def show(text: str) -> None:  # stream only what goes beyond what an earlier try already showed
            if stream and len(text) > len(emitted[0]) and text.startswith(emitted[0]):
                piece, emitted[0] = text[len(emitted[0]):], text
                stream(piece)

        adapted = False
        while True:
            try:
                return await self._retrying(lambda: self._stream_once(body, show, slots), what)
            except _Refused as exc:
                fixed = None if adapted else self._adapt(body, exc)
                if fixed is None:
                    raise self._refused(exc, what) from exc
                body, adapted = fixed, True

    def _adapt(self, body: dict[str, Any], exc: _Refused) -> dict[str, Any] | None:
        """A body the server may accept after refusing ``body`` (once per kind of refusal), or None."""
        detail = exc.detail.lower()
        if "response_format" in body and self._json_style == "json_schema" and (
                "response_format" in detail or "json_schema" in detail or exc.status == 422):
            self._json_style = "json_object"  # llama-cpp-python: {"type": "json_object", "schema": ...}
            body = dict(body)
            body["response_format"] = {"type": "json_object", "schema": body["response_format"]["json_schema"]["schema"]}
            return body
        if not self._plain_only and any(
                w in detail for w in ("unrecognized", "unknown", "extra", "not permitted", "unsupported")):
            self._plain_only = True
            extensions = ("top_k", "repeat_penalty", "repetition_penalty", "cache_prompt", "stream_options",
                          "grammar", "guided_choice")
            return {k: v for k, v in body.items() if k not in extensions}
        return None

    def _refused(self, exc: _Refused, what: str) -> Exception:
        detail = exc.detail
        if exc.status in (401, 403):
            return ServerError(f"The inference server at {self.url} refused docgen's credentials for {what} (HTTP "
                               f"{exc.status}). Set the API key in Settings (server) or DOCGEN_SERVER_API_KEY.")
        if re.search(r"context|too long|maximum.*length|exceed", detail, re.IGNORECASE):
            return ContextOverflow(f"The server at {self.url} says the prompt of {what} does not fit its context "
                                   f"window ({detail}). Start it with a larger context, lower max_tokens, or shorten "
                                   "the prompt.")
        return ServerError(f"The inference server at {self.url} refused {what} (HTTP {exc.status}: {detail}). Check "
                           "that it serves this model and supports the OpenAI chat completions API.")

    async def _stream_once(self, body: dict[str, Any], show: Callable[[str], None],
                           slots: asyncio.Semaphore) -> tuple[str, int, str, dict[str, Any]]:
        async with slots:
            try:
                async with self._http().stream("POST", self.base_url + "/chat/completions", json=body) as resp:
                    if resp.status_code in _RETRY_STATUS:
                        await resp.aread()
                        if _invalid_request(resp.content):  # llama-cpp-python answers a bad field with a 500
                            raise _Refused(resp.status_code, _detail(resp.content))
                        raise _Retry(f"HTTP {resp.status_code} ({_detail(resp.content)})",
                                     retry_after(resp.headers.get("Retry-After")))
                    if resp.status_code != 200:
                        await resp.aread()
                        raise _Refused(resp.status_code, _detail(resp.content))
                    return await self._read_events(resp, show)
            except httpx.TransportError as exc:
                raise _Retry(_transport_reason(exc)) from exc

    async def _read_events(self, resp: httpx.Response, show: Callable[[str], None]
                           ) -> tuple[str, int, str, dict[str, Any]]:
        text, deltas, finish = "", 0, ""
        usage: dict[str, Any] = {}
        done = False
        if "text/event-stream" not in resp.headers.get("content-type", "event-stream"):
            data = json.loads(await resp.aread())  # a server that ignored stream=true
            choice = (data.get("choices") or [{}])[0]
            text = (choice.get("message") or {}).get("content") or ""
            show(text)
            self._note(data, usage)
            self._note_logprobs(choice, usage)
            return text, max(1, len(text.split())), _finish(choice.get("finish_reason")), usage
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        buffer = ""
        async for raw in resp.aiter_raw():
            buffer += decoder.decode(raw)
            while "\n" in buffer:
                line, buffer = buffer.split("\n", 1)
                line = line.rstrip("\r")
                if not line.startswith("data:"):
                    continue  # comments (": ping"), event names, blank separators
                payload = line[5:].strip()
                if payload == "[DONE]":
                    done = True
                    break
                try:
                    event = json.loads(payload)
                except ValueError as exc:
                    raise _Retry(f"the server sent a broken event ({payload[:60]!r})") from exc
                if not isinstance(event, dict):
                    continue
                if event.get("error"):
                    raise _Retry(f"the server reported an error mid-answer: {_detail(json.dumps(event).encode())}")
                self._note(event, usage)
                for choice in event.get("choices") or []:
                    delta = choice.get("delta") or {}
                    piece = delta.get("content")
                    if piece:
                        text += piece
                        deltas += 1
                        show(text)
                    self._note_logprobs(choice, usage)
                    if choice.get("finish_reason"):
                        finish = _finish(choice["finish_reason"])
            if done:
                break
        if not finish:
            if done:  # llama-cpp-python's server ends every open answer so when another request arrives
                raise _Retry("the server ended the answer without saying why (no finish_reason); a llama-cpp-python "
                             "server does this to concurrent requests unless started with --interrupt_requests False")
            raise _Retry("the connection closed before the answer was complete")
        return text, deltas, finish or "stop", usage

    def _note(self, event: dict[str, Any], usage: dict[str, Any]) -> None:
        if event.get("system_fingerprint"):
            self.fingerprint = str(event["system_fingerprint"])
        u = event.get("usage")
        if isinstance(u, dict):
            for k in ("prompt_tokens", "completion_tokens"):
                if isinstance(u.get(k), int):
                    usage[k] = u[k]
        timings = event.get("timings")
        if isinstance(timings, dict) and isinstance(timings.get("prompt_n"), int):
            usage["evaluated"] = timings["prompt_n"]  # llama-server: prompt tokens not served from its cache

    @staticmethod
    def _note_logprobs(choice: dict[str, Any], usage: dict[str, Any]) -> None:
        """Keep the first answer token's top logprobs as ``usage["top"]`` (absent when the server sends none)."""
        if usage.get("top") is not None:
            return
        lp = choice.get("logprobs")
        content = lp.get("content") if isinstance(lp, dict) else None
        if content and isinstance(content, list) and isinstance(content[0], dict):
            usage["top"] = content[0].get("top_logprobs") or [content[0]]

    def close(self) -> None:
        """Close the connections (open requests are ended)."""
        if self._loop.is_closed():
            return
        if self._client is not None and not self._loop.is_running():
            self._loop.run_until_complete(self._client.aclose())
        self._client = None
        if not self._loop.is_running():
            self._loop.close()


def _finish(reason: Any) -> str:
    return "length" if reason == "length" else "stop"


def _invalid_request(body: bytes) -> bool:
    """True when an error body says the request itself was invalid (a field the server does not accept), which
    some servers (llama-cpp-python) send with a 500 status: retrying it as is cannot help."""
    text = body[:2000].decode("utf-8", errors="replace").lower()
    return "validation error" in text or "input should be" in text or "extra inputs are not permitted" in text


def _transport_reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connecting timed out"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({exc or 'refused'})"
    if isinstance(exc, httpx.ReadTimeout):
        return "no answer within the read timeout (server_timeout)"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return f"the connection dropped mid-answer ({exc})"
    return f"{type(exc).__name__}: {exc}"


def _key(req: Request) -> str:
    return json.dumps([[(m.role, m.content) for m in req.messages], repr(req.params), list(req.choices), req.schema],
                      sort_keys=True, default=str)


def test_connection(base_url: str, *, model: str = "", api_key: str = "", require_tls: bool = False,
                    timeout: float = 10.0) -> str:
    """Settings' "Test connection": open the server (models, context window) and ask for one token. Returns a
    one-line description ("model X, context 8192 tokens, answered in 0.4 s"); raises ServerError/PolicyError
    with the reason. Makes no retries."""
    start = time.perf_counter()
    gen = OpenAIGenerator(base_url, model=model, api_key=api_key, require_tls=require_tls, retries=0,
                          connect_timeout=timeout, read_timeout=timeout)
    try:
        gen.generate([Message("user", "Say OK.")], GenerationParams(max_tokens=1, temperature=0.0))
        return (f"{gen.url}: model {gen.model}, context {gen.n_ctx} tokens, answered in "
                f"{time.perf_counter() - start:.1f} s" + (f", fingerprint {gen.fingerprint}" if gen.fingerprint else ""))
    finally:
        gen.close()


__all__ = ["OpenAIGenerator", "normalize_url", "public_url", "is_loopback", "check_url_policy", "retry_after",
           "match_choice", "test_connection", "open_openai"]


def open_openai(*, base_url: str = "", model: str = "", api_key: str = "", n_ctx: int = 4096, concurrency: int = 1,
                read_timeout: float = 300.0, require_tls: bool = False, **options: Any) -> OpenAIGenerator:
    """Backend factory (:data:`docgen.llm.BACKENDS`). Raises ServerError without ``base_url``."""
    if not base_url:
        raise ServerError("The openai backend needs the server's address: pass --base-url URL (for example "
                          "http://127.0.0.1:8080/v1) or set server_url in Settings.")
    extra = {k: options[k] for k in ("connect_timeout", "retries", "backoff", "transport") if k in options}
    if "parallel" in options and not concurrency:
        concurrency = int(options["parallel"] or 0)
    return OpenAIGenerator(base_url, model=model, api_key=api_key, n_ctx=n_ctx, concurrency=concurrency,
                           read_timeout=read_timeout, require_tls=require_tls, **extra)
