"""The section cache: a model's reply to the same prompt is never paid for twice.

What is cached is one *generation* (the model's raw reply to one request), keyed by :func:`request_key`: the
sha256 of docgen's :data:`GENERATION_VERSION`, the model's identity (:func:`model_identity`: the GGUF file's
sha256 and the context window), the exact chat messages, every sampling parameter including the seed, the
choices and the JSON schema. Cleanup, the claim check and rendering run again on a cached reply, so a change to
them never needs the cache cleared; a field that a section's prompt does not name is not in its messages, so
changing it does not change that section's key.

Where: ``sections.sqlite3`` in ``<user cache dir>/sections/`` (:func:`docgen.paths.user_cache_dir`;
DOCGEN_HOME moves it). SQLite in WAL mode with a busy timeout of :data:`BUSY_SECONDS`, so two docgen processes
(the desktop app and a batch run) read and write it at once; every write is one transaction. Size: the
``cache_mb`` setting (default 200 MB, :data:`DEFAULT_MB`) bounds the stored replies' bytes; past it the least
recently *used* entries (a hit counts as a use) are removed down to :data:`EVICT_TO` of the bound. A cache file
that is not a readable database is moved aside (``sections.sqlite3.broken``) and started afresh; any later
SQLite error makes that lookup a miss (logged), never a failed document.

What is not cached: a generation that was cancelled or raised (nothing is returned, so nothing is stored), and
a backend that cannot name its model by content: only ``llamacpp`` (the model file's sha256) is cached by
default. The scripted fake and inference servers (whose model may change behind the same name) are cached only
when the generator has a ``cache_identity`` string (tests set one on a fake to test caching through the GUI).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from docgen.cancel import CancelToken
from docgen.llm.base import Generation, Generator, IndexedTokenCallback, Message, Request, TokenCallback, request_stream
from docgen.llm.discovery import file_sha256
from docgen.model import GenerationParams

log = logging.getLogger(__name__)

#: docgen's generation version, part of every key. Bump it when docgen itself would write different text for
#: the same model, messages, parameters and seed (a change to sampling, grammar or chat formatting in a backend),
#: so replies cached by an older docgen are not returned. Cleanup, checks and rendering do not count: they run
#: again on cached replies.
GENERATION_VERSION = 1
#: Default bound of the cache in MB (10**6 bytes of stored replies; the ``cache_mb`` setting).
DEFAULT_MB = 200
#: After going over the bound, least recently used entries are removed until the cache holds this share of it
#: (so not every write past the bound evicts).
EVICT_TO = 0.9
#: How long a write waits for another process's transaction before the lookup counts as a miss (seconds).
BUSY_SECONDS = 10.0
#: Bytes an entry costs beyond its reply text (key, row, index): an estimate, so many tiny replies count too.
ENTRY_OVERHEAD = 200

_SHA: dict[tuple[str, int, int], str] = {}


def cache_file() -> Path:
    """Where the section cache lives: ``<user cache dir>/sections/sections.sqlite3``."""
    from docgen.paths import user_cache_dir

    return user_cache_dir() / "sections" / "sections.sqlite3"


def _model_sha(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA:
        _SHA[key] = file_sha256(path)
    return _SHA[key]


def model_identity(generator: Any) -> str | None:
    """What identifies ``generator``'s model in cache keys, or None when its replies are not cached.

    ``llamacpp``: ``llamacpp sha256:<model file sha256> n_ctx:<context window>``; a generator with a
    ``cache_identity`` string attribute: that string; anything else (the scripted fake, inference servers):
    None (see the module docstring)."""
    identity = getattr(generator, "cache_identity", None)
    if isinstance(identity, str) and identity:
        return identity
    if getattr(generator, "backend", "") == "llamacpp" and getattr(generator, "path", None):
        try:
            sha = _model_sha(Path(generator.path))
        except OSError:
            return None
        return f"llamacpp sha256:{sha} n_ctx:{getattr(generator, 'n_ctx', '')}"
    return None


def request_key(model: str, messages: Sequence[Message], params: GenerationParams, choices: Sequence[str] = (),
                schema: Mapping[str, Any] | None = None) -> str:
    """The cache key (64 hex digits) of one request to the model ``model`` (:func:`model_identity`): sha256 of
    canonical JSON of the generation version, the model, the messages (role and content), every field of
    ``params`` (seed included), the choices and the schema."""
    data = {"v": GENERATION_VERSION, "model": model, "messages": [[m.role, m.content] for m in messages],
            "params": dataclasses.asdict(params), "choices": list(choices), "schema": schema}
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SectionCache:
    """The on-disk store of generations (see the module docstring). Thread-safe; several processes may open the
    same file. ``max_bytes``: the size bound in bytes (replies' UTF-8 bytes + :data:`ENTRY_OVERHEAD` each).

    Raises nothing after construction: SQLite errors are logged and make a lookup a miss, a write a no-op.
    """

    def __init__(self, path: Path | None = None, *, max_bytes: int = DEFAULT_MB * 10**6) -> None:
        self.path = Path(path) if path is not None else cache_file()
        self.max_bytes = max(0, int(max_bytes))
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self.hits = 0
        self.misses = 0

    # -- connection ---------------------------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, reply TEXT NOT NULL, "
                       "size INTEGER NOT NULL, used REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS generations_used ON generations (used)")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self._db = self._open()
            except sqlite3.DatabaseError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise
                broken = self.path.with_name(self.path.name + ".broken")
                log.warning("Section cache %s is not readable (%s); moved to %s, starting afresh", self.path, exc,
                            broken)
                for suffix in ("-wal", "-shm"):
                    self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
                self.path.replace(broken)
                self._db = self._open()
        return self._db

    def close(self) -> None:
        """Close the database connection (reopened by the next use)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- entries ------------------------------------------------------------------------------------------------
    def get_many(self, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        """The stored replies of ``keys`` (dicts with ``text``, ``finish_reason``, ``tokens``, ``prompt_tokens``,
        ``seconds`` as first generated), None for a miss; the hits' last-used time becomes now."""
        if not keys:
            return []
        try:
            with self._lock:
                db = self._connection()
                found: dict[str, str] = {}
                unique = list(dict.fromkeys(keys))
                for first in range(0, len(unique), 500):
                    part = unique[first:first + 500]
                    rows = db.execute(f"SELECT key, reply FROM generations WHERE key IN ({','.join('?' * len(part))})",
                                      part).fetchall()
                    found.update(rows)
                if found:
                    now = time.time()
                    db.execute("BEGIN IMMEDIATE")
                    try:
                        db.executemany("UPDATE generations SET used = ? WHERE key = ?", [(now, k) for k in found])
                        db.execute("COMMIT")
                    except BaseException:
                        db.execute("ROLLBACK")
                        raise
        except sqlite3.Error as exc:
            log.warning("Section cache %s: lookup failed (%s); generating instead", self.path, exc)
            self.misses += len(keys)
            return [None] * len(keys)
        out: list[dict[str, Any] | None] = []
        for key in keys:
            reply = None
            if key in found:
                try:
                    reply = json.loads(found[key])
                except ValueError:
                    reply = None
            out.append(reply if isinstance(reply, dict) and isinstance(reply.get("text"), str) else None)
        self.hits += sum(1 for r in out if r is not None)
        self.misses += sum(1 for r in out if r is None)
        return out

    def put_many(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Store ``(key, reply)`` pairs in one transaction, then evict least recently used entries while the cache
        is over :attr:`max_bytes`."""
        rows = []
        now = time.time()
        for key, reply in items:
            text = json.dumps(dict(reply), ensure_ascii=False, separators=(",", ":"))
            rows.append((key, text, len(text.encode("utf-8")) + ENTRY_OVERHEAD, now))
        if not rows:
            return
        try:
            with self._lock:
                db = self._connection()
                db.execute("BEGIN IMMEDIATE")
                try:
                    db.executemany("INSERT OR REPLACE INTO generations (key, reply, size, used) VALUES (?, ?, ?, ?)",
                                   rows)
                    self._evict(db)
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            log.warning("Section cache %s: storing %d replies failed (%s)", self.path, len(rows), exc)

    def _evict(self, db: sqlite3.Connection) -> None:
        total = db.execute("SELECT COALESCE(SUM(size), 0) FROM generations").fetchone()[0]
        if total <= self.max_bytes:
            return
        target = int(self.max_bytes * EVICT_TO)
        doomed = []
        for key, size in db.execute("SELECT key, size FROM generations ORDER BY used, rowid"):
            if total <= target:
                break
            doomed.append((key,))
            total -= size
        db.executemany("DELETE FROM generations WHERE key = ?", doomed)
        log.info("Section cache: %d least recently used replies removed (bound %d bytes)", len(doomed),
                 self.max_bytes)

    def stats(self) -> tuple[int, int]:
        """``(entries, bytes)`` stored now (bytes as counted for the bound)."""
        with self._lock:
            row = self._connection().execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM generations").fetchone()
        return int(row[0]), int(row[1])

    def clear(self) -> None:
        """Remove every entry."""
        with self._lock:
            self._connection().execute("DELETE FROM generations")


def _reply(gen: Generation) -> dict[str, Any]:
    return {"text": gen.text, "finish_reason": gen.finish_reason, "tokens": gen.tokens,
            "prompt_tokens": gen.prompt_tokens, "seconds": round(gen.seconds, 4), "scores": list(gen.scores)}


def _hit(reply: Mapping[str, Any], seconds: float) -> Generation:
    """A cache hit as a Generation: the stored text and finish reason, 0 tokens generated and read (this run
    spent none), ``cached`` set; a scored choice keeps its scores (``choice_bias`` reads them)."""
    scores = reply.get("scores") or ()
    return Generation(str(reply["text"]), 0, 0, 0, seconds, str(reply.get("finish_reason") or "stop"),
                      scores=tuple(float(x) for x in scores), cached=True)


class CachedGenerator:
    """A generator that answers requests from a :class:`SectionCache` and sends only the misses to ``inner``.

    ``generate`` and (when ``inner`` has one) ``generate_many`` keep their contract
    (:func:`docgen.llm.base.generate_all`): results in request order; the misses go to ``inner`` in ONE call,
    so a multi-sequence backend still decodes them together; a hit's ``on_token`` receives its whole text at
    once. Hits are :class:`Generation` with ``cached=True`` and 0 tokens. Nothing is stored when ``inner`` raises
    (Cancelled, ContextOverflow, a backend error). Every other attribute (``name``, ``path``, ``n_ctx``,
    ``backend``, ``provenance``, ``count_tokens``...) is ``inner``'s, so provenance names the real model.
    """

    def __init__(self, inner: Generator, cache: SectionCache, model: str) -> None:
        self.inner = inner
        self.cache = cache
        self.model = model
        if getattr(inner, "generate_many", None) is not None:  # only then: callers test for it (schedule.py)
            self.generate_many = self._generate_many

    def __getattr__(self, name: str) -> Any:
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def _key(self, req: Request) -> str:
        return request_key(self.model, req.messages, req.params, req.choices, req.schema)

    def generate(self, messages: Sequence[Message], params: GenerationParams, *, choices: Sequence[str] = (),
                 on_token: TokenCallback | None = None, cancel: CancelToken | None = None,
                 schema: dict[str, Any] | None = None) -> Generation:
        """See :meth:`docgen.llm.base.Generator.generate`; a hit returns the stored text at once."""
        start = time.perf_counter()
        key = request_key(self.model, messages, params, choices, schema)
        [reply] = self.cache.get_many([key])
        if reply is not None:
            if cancel:
                cancel.raise_if_cancelled()
            gen = _hit(reply, time.perf_counter() - start)
            if on_token and gen.text:
                on_token(gen.text)
            return gen
        gen = self.inner.generate(messages, params, choices=choices, on_token=on_token, cancel=cancel,
                                  **({"schema": schema} if schema is not None else {}))
        self.cache.put_many([(key, _reply(gen))])
        return gen

    def _generate_many(self, requests: Sequence[Request], *, on_token: IndexedTokenCallback | None = None,
                       cancel: CancelToken | None = None) -> list[Generation]:
        """See :func:`docgen.llm.base.generate_all`: hits answered from the cache, misses in one call of
        ``inner.generate_many``."""
        start = time.perf_counter()
        keys = [self._key(r) for r in requests]
        replies = self.cache.get_many(keys)
        if cancel:
            cancel.raise_if_cancelled()
        out: list[Generation | None] = [None] * len(requests)
        misses = []
        for i, (req, reply) in enumerate(zip(requests, replies, strict=True)):
            if reply is None:
                misses.append(i)
                continue
            out[i] = gen = _hit(reply, time.perf_counter() - start)
            stream = request_stream(req, i, on_token)
            if stream and gen.text:
                stream(gen.text)
        if misses:
            inner_stream = None
            if on_token is not None:
                def inner_stream(j: int, piece: str) -> None:
                    on_token(misses[j], piece)
            gens = self.inner.generate_many([requests[i] for i in misses], on_token=inner_stream, cancel=cancel)
            for i, gen in zip(misses, gens, strict=True):
                out[i] = gen
            self.cache.put_many([(keys[i], _reply(out[i])) for i in misses])  # type: ignore[arg-type]
        return out  # type: ignore[return-value]

    def close(self) -> None:
        """Close the inner generator and the cache's database connection."""
        try:
            self.inner.close()
        finally:
            self.cache.close()


def with_cache(generator: Generator, *, enabled: bool = True, max_mb: int = DEFAULT_MB,
               path: Path | None = None) -> Generator:
    """``generator`` behind the section cache (a :class:`CachedGenerator`), or ``generator`` itself when
    ``enabled`` is false, ``max_mb`` is 0 or its model has no :func:`model_identity` (a scripted fake, an
    inference server). ``max_mb``: the ``cache_mb`` setting; ``path``: the database (default
    :func:`cache_file`)."""
    if not enabled or max_mb <= 0 or isinstance(generator, CachedGenerator):
        return generator
    model = model_identity(generator)
    if model is None:
        return generator
    return CachedGenerator(generator, SectionCache(path, max_bytes=max_mb * 10**6), model)


def from_settings(generator: Generator, settings: Any, *, enabled: bool = True) -> Generator:
    """:func:`with_cache` as the settings say (``cache``, ``cache_mb``); ``enabled=False`` (``--no-cache``)
    turns it off for this run."""
    return with_cache(generator, enabled=enabled and bool(getattr(settings, "cache", True)),
                      max_mb=int(getattr(settings, "cache_mb", DEFAULT_MB)))


__all__ = ["from_settings", "SectionCache", "CachedGenerator", "with_cache", "request_key", "model_identity", "cache_file",
           "GENERATION_VERSION", "DEFAULT_MB"]
