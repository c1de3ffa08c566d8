"""The reference index: passages of every reference file in one SQLite database with an FTS5 full-text table,
ranked by BM25 (SQLite's built-in ``bm25()``; Robertson & Zaragoza's Okapi BM25 with k1 = 1.2, b = 0.75).

Where: ``refs/index.sqlite3`` in the user cache directory (:func:`docgen.paths.user_cache_dir`; DOCGEN_HOME
moves it). It is a cache: deleting it loses nothing, the next run rebuilds it.

When a file is (re)read, by :meth:`Index.update`, keyed by path + size + mtime + sha256:

- size and mtime (nanoseconds) as recorded: the file is not opened at all (``unchanged``);
- size or mtime differ but the SHA-256 of the bytes is the recorded one (a copy, a ``touch``, a save without
  changes): only the new size/mtime are recorded (``touched``), nothing is re-read;
- otherwise the file is read again and its passages replaced (``indexed``); a file that cannot be read is
  recorded with its error (``failed``), so it is not re-read until it changes.

Tables: ``files`` (path, size, mtime_ns, sha256, passages, error), ``passages`` (file, ordinal, heading path,
page/paragraph/line/row) and the FTS5 table ``passages_fts`` (text, heading) whose rowid is the passage id.
The tokenizer is ``porter unicode61 remove_diacritics 2`` (English stemming: "refunds" finds "refund").
Headings weigh twice the text in BM25 (a query naming "warranty" should prefer the warranty section).
Journal mode WAL with a 30 s busy timeout, so the GUI and a batch run can share the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from docgen.errors import DataError, DocgenError
from docgen.refs.passages import Passage
from docgen.refs.readers import read_passages

SCHEMA_VERSION = "2"
#: BM25 column weights (text, heading): see the module docstring.
BM25_WEIGHTS = (1.0, 2.0)
#: Most query terms kept (a long customer comment is cut to its first distinct terms).
MAX_QUERY_TERMS = 64

# A common English stop-word list (the words that carry no topic); numbers are kept ("30 days").
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on
once only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves also get got us let may might must shall
""".split())

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Hit:
    """A ranked passage: its ``file`` (absolute path), the :class:`Passage`, and ``score`` (BM25, higher is
    better; SQLite's bm25() value negated)."""

    file: Path
    passage: Passage
    score: float
    passage_id: int = 0


@dataclass
class UpdateReport:
    """What :meth:`Index.update` did, by path: read again (``indexed``), new mtime only (``touched``), not opened
    (``unchanged``), unreadable (``failed``: path -> message); ``seconds`` of wall time."""

    indexed: list[Path] = field(default_factory=list)
    touched: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    failed: dict[Path, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class FileInfo:
    """One indexed file: path, size in bytes, passages, sha256 and the error that stopped reading it ("")."""

    path: Path
    size: int
    passages: int
    sha256: str
    error: str = ""


def default_index_path() -> Path:
    """``refs/index.sqlite3`` in the user cache directory."""
    from docgen.paths import user_cache_dir

    return user_cache_dir() / "refs" / "index.sqlite3"


def fts_query(text: str) -> str:
    """An FTS5 MATCH expression for free ``text``: its distinct words (lower case, stop-words and one-letter
    words dropped, numbers kept), each quoted, joined with OR; at most :data:`MAX_QUERY_TERMS`. "" when no word
    is left (then nothing matches)."""
    terms: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()) or word in terms:
            continue
        terms.append(word.replace('"', ""))
        if len(terms) >= MAX_QUERY_TERMS:
            break
    return " OR ".join(f'"{t}"' for t in terms)


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of ``path``'s bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _key(path: Path | str) -> str:
    """The index's key for ``path``: its absolute, normalised path as text (no pathlib objects: a search scoped
    to 100 files computes 100 keys, and pathlib's parsing was half of a query's time)."""
    return os.path.abspath(os.fspath(path))


class Index:
    """The reference index in the SQLite file ``path`` (default :func:`default_index_path`), created on first
    use. Writes open their own connection; reads use one connection per thread, kept open, so one Index may be used
    from several threads (the GUI's worker and its search box).
    Raises DocgenError when this Python's SQLite lacks FTS5 (every python.org and Linux distribution build has
    it)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_index_path()
        self._local = threading.local()

    # -- plumbing -----------------------------------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection, kept open between searches (a connection costs ~2 ms to open)."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
            self._local.scopes = {}
            self._local.version = None
        return con

    def _scope_ids(self, con: sqlite3.Connection, keys: tuple[str, ...]) -> dict[int, str]:
        """file id -> path of the indexed files among ``keys``, remembered per thread until the database changes
        (SQLite's ``PRAGMA data_version`` moves when any other connection commits), so a batch searching the same
        scope for every section and row looks its files up once."""
        version = con.execute("PRAGMA data_version").fetchone()[0]
        if version != self._local.version:
            self._local.scopes.clear()
            self._local.version = version
        ids = self._local.scopes.get(keys)
        if ids is None:
            ids = {}
            for start in range(0, len(keys), 500):  # SQLite's default limit is 32,766 variables; stay well below
                part = keys[start:start + 500]
                ids.update(con.execute(f"SELECT id, path FROM files WHERE path IN ({','.join('?' * len(part))})",
                                       part).fetchall())
            if len(self._local.scopes) > 64:
                self._local.scopes.clear()
            self._local.scopes[keys] = ids
        return ids

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA foreign_keys=ON")
        version = None
        try:
            version = con.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.OperationalError:
            pass
        if not version or version[0] != SCHEMA_VERSION:
            self._create(con)
        return con

    @staticmethod
    def _create(con: sqlite3.Connection) -> None:
        with con:
            for table in ("passages_fts", "passages", "files", "meta"):
                con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
            con.execute("CREATE TABLE files(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, size INTEGER, "
                        "mtime_ns INTEGER, sha256 TEXT, passages INTEGER DEFAULT 0, error TEXT DEFAULT '', "
                        "indexed_at REAL)")
            con.execute("CREATE TABLE passages(id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL REFERENCES "
                        "files(id) ON DELETE CASCADE, ordinal INTEGER, headings TEXT, page INTEGER, "
                        "paragraph INTEGER, line INTEGER, row INTEGER)")
            con.execute("CREATE INDEX passages_file ON passages(file_id, ordinal)")
            try:
                con.execute("CREATE VIRTUAL TABLE passages_fts USING fts5(text, heading, file_id UNINDEXED, "
                            "tokenize='porter unicode61 remove_diacritics 2')")
            except sqlite3.OperationalError as exc:
                raise DocgenError(f"This Python's SQLite has no FTS5 full-text search ({exc}), which reference "
                                  "documents need. Install docgen's own build, or a Python from python.org.") from exc
            con.execute("INSERT INTO meta VALUES('schema', ?)", (SCHEMA_VERSION,))

    # -- writing ------------------------------------------------------------------------------------------------
    def update(self, paths: Iterable[Path], *, force: bool = False) -> UpdateReport:
        """Bring the index up to date for ``paths`` (files; see the module docstring for when a file is read).
        ``force`` re-reads every file. Files that no longer exist are ``failed``; an unreadable file does not
        stop the others. Returns what was done."""
        report = UpdateReport()
        start = time.perf_counter()
        con = self._connect()
        try:
            for raw in paths:
                path = Path(_key(raw))
                try:
                    self._update_one(con, path, report, force)
                except DataError as exc:
                    report.failed[path] = str(exc)
        finally:
            con.close()
        report.seconds = time.perf_counter() - start
        return report

    def _update_one(self, con: sqlite3.Connection, path: Path, report: UpdateReport, force: bool) -> None:
        key = str(path)
        try:
            st = path.stat()
        except OSError as exc:
            raise DataError(path, f"cannot be read as a reference: {exc.strerror or exc}.") from exc
        row = con.execute("SELECT id, size, mtime_ns, sha256, error FROM files WHERE path=?", (key,)).fetchone()
        if row and not force and row[1] == st.st_size and row[2] == st.st_mtime_ns:
            if row[4]:
                report.failed[path] = row[4]
            else:
                report.unchanged.append(path)
            return
        sha = file_sha256(path)
        if row and not force and row[3] == sha:
            with con:
                con.execute("UPDATE files SET size=?, mtime_ns=? WHERE id=?", (st.st_size, st.st_mtime_ns, row[0]))
            if row[4]:
                report.failed[path] = row[4]
            else:
                report.touched.append(path)
            return
        error = ""
        try:
            passages = read_passages(path)
        except DataError as exc:
            passages, error = [], str(exc)
        with con:
            if row:
                self._delete_passages(con, row[0])
                con.execute("UPDATE files SET size=?, mtime_ns=?, sha256=?, passages=?, error=?, indexed_at=? "
                            "WHERE id=?", (st.st_size, st.st_mtime_ns, sha, len(passages), error, time.time(), row[0]))
                file_id = row[0]
            else:
                file_id = con.execute("INSERT INTO files(path, size, mtime_ns, sha256, passages, error, indexed_at) "
                                      "VALUES(?,?,?,?,?,?,?)", (key, st.st_size, st.st_mtime_ns, sha, len(passages),
                                                                error, time.time())).lastrowid
            for p in passages:
                pid = con.execute("INSERT INTO passages(file_id, ordinal, headings, page, paragraph, line, row) "
                                  "VALUES(?,?,?,?,?,?,?)", (file_id, p.ordinal, json.dumps(p.headings), p.page,
                                                            p.paragraph, p.line, p.row)).lastrowid
                con.execute("INSERT INTO passages_fts(rowid, text, heading, file_id) VALUES(?,?,?,?)",
                            (pid, p.text, " / ".join(p.headings), file_id))
        if error:
            report.failed[path] = error
        else:
            report.indexed.append(path)

    @staticmethod
    def _delete_passages(con: sqlite3.Connection, file_id: int) -> None:
        con.execute("DELETE FROM passages_fts WHERE rowid IN (SELECT id FROM passages WHERE file_id=?)", (file_id,))
        con.execute("DELETE FROM passages WHERE file_id=?", (file_id,))

    def remove(self, paths: Iterable[Path]) -> int:
        """Forget ``paths`` (the files themselves are not touched); returns how many were indexed."""
        con = self._connect()
        n = 0
        try:
            with con:
                for raw in paths:
                    row = con.execute("SELECT id FROM files WHERE path=?", (_key(raw),)).fetchone()
                    if row:
                        self._delete_passages(con, row[0])
                        con.execute("DELETE FROM files WHERE id=?", (row[0],))
                        n += 1
        finally:
            con.close()
        return n

    def prune(self) -> list[Path]:
        """Forget every indexed file that no longer exists; returns their paths."""
        gone = [f.path for f in self.files() if not f.path.exists()]
        self.remove(gone)
        return gone

    # -- reading ------------------------------------------------------------------------------------------------
    def files(self, paths: Iterable[Path] | None = None) -> list[FileInfo]:
        """Indexed files (all, or those of ``paths`` that are indexed), in path order."""
        rows = self._reader().execute("SELECT path, size, passages, sha256, error FROM files ORDER BY path").fetchall()
        wanted = None if paths is None else {_key(p) for p in paths}
        return [FileInfo(Path(r[0]), r[1], r[2], r[3], r[4] or "") for r in rows if wanted is None or r[0] in wanted]

    def passages(self, path: Path) -> list[Hit]:
        """Every passage of indexed file ``path`` in file order (score 0). Empty when it is not indexed."""
        rows = self._reader().execute(
            "SELECT p.id, p.ordinal, p.headings, p.page, p.paragraph, p.line, p.row, t.text FROM passages p "
            "JOIN files f ON f.id = p.file_id JOIN passages_fts t ON t.rowid = p.id WHERE f.path=? "
            "ORDER BY p.ordinal", (_key(path),)).fetchall()
        return [Hit(Path(_key(path)), _passage(r[1:]), 0.0, r[0]) for r in rows]

    def search(self, query: str, paths: Sequence[Path], limit: int = 10) -> list[Hit]:
        """The best ``limit`` passages of the files ``paths`` for free-text ``query`` (:func:`fts_query`), best
        first; ties keep file order. Empty when no word of the query occurs in them."""
        match = fts_query(query)
        keys = tuple(_key(p) for p in paths)
        if not match or not keys:
            return []
        con = self._reader()
        ids = self._scope_ids(con, keys)
        if not ids:
            return []
        # rank inside FTS5 first (scoped by the UNINDEXED file_id column), then look up only the top rows
        top = con.execute(
            f"SELECT rowid, file_id, text, bm25(passages_fts, {BM25_WEIGHTS[0]}, {BM25_WEIGHTS[1]}) AS score "
            f"FROM passages_fts WHERE passages_fts MATCH ? AND file_id IN ({','.join('?' * len(ids))}) "
            f"ORDER BY score, rowid LIMIT ?", (match, *ids, int(limit))).fetchall()
        meta = {r[0]: r[1:] for r in con.execute(
            f"SELECT id, ordinal, headings, page, paragraph, line, row FROM passages WHERE id IN "
            f"({','.join('?' * len(top))})", [t[0] for t in top]).fetchall()} if top else {}
        files = {fid: Path(ids[fid]) for fid in {t[1] for t in top}}
        return [Hit(files[fid], _passage((*meta[pid], text)), -float(score), pid)
                for pid, fid, text, score in top if pid in meta]

    def stats(self) -> dict[str, int]:
        """``files``, ``passages`` and ``bytes`` (the database file, with its WAL) of the whole index."""
        con = self._connect()
        try:
            files = con.execute("SELECT count(*) FROM files").fetchone()[0]
            passages = con.execute("SELECT count(*) FROM passages").fetchone()[0]
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return {"files": files, "passages": passages, "bytes": size}


def _passage(r: Sequence) -> Passage:
    ordinal, headings, page, paragraph, line, row, text = r
    return Passage(ordinal, text, tuple(json.loads(headings or "[]")), page, paragraph, line, row)


__all__ = ["Index", "Hit", "UpdateReport", "FileInfo", "default_index_path", "fts_query", "file_sha256",
           "STOPWORDS", "BM25_WEIGHTS"]
