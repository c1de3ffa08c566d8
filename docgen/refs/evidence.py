"""The passage-evidence side of the claim check: a sentence that states a policy term is checked against the
sources it cites.

Policy terms (:func:`policy_terms`), the things a reply letter must not get wrong:

- durations: "30 days", "12 months", "two years", "10 working days" (compared as number + unit, so
  "one year" = "12 months" and "24 months" = "2 years"; "working"/"business" must match too);
- amounts: "$49", "$4.95", "£10" (currency and value);
- percentages: "10%", "15 percent";
- remedies: refund, replacement, repair, exchange, store credit, voucher, discount, compensation, free
  postage/shipping/label (by stem: "replace", "replaced", "replacement" are one remedy).

For each sentence of a section written from sources (:func:`policy_marks`), leaving out terms the record or
data itself states (the customer's "after 3 months" is their fact, not our promise):

- it cites ``[n]`` and every term is in a cited source: fine;
- it cites, but a term is in none of the cited sources: ``citation`` when another source given says it (the
  message names it), else ``policy``, with what the cited sources say instead;
- it cites no source: ``uncited`` when the sources do say it (the message names which to cite), else
  ``policy`` (a promise no source makes);
- a term the sources do state, but for something else: ``policy`` (:func:`scope_conflict`: "a 12-month
  warranty on our TVs" when the source says 12 months for DVD players and 24 months for TVs);
- it cites a number the section was not given: ``citation``.

A ``citation`` mark is a wrong reference, not a false promise: ``[references] unsupported = "remove"`` keeps
its sentence (with its comment).

Each problem is a :class:`docgen.model.Mark` anchored on its sentence, like the claim check's other marks
(:mod:`docgen.claims`, which calls this for the passage evidence). Pure Python, no heavy imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from docgen.claims.citations import CITATION, cited_numbers
from docgen.claims.words import STOPWORDS
from docgen.model import Mark, Source

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20,
                 "thirty": 30, "sixty": 60, "ninety": 90, "a": 1, "an": 1}
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_DURATION = re.compile(_NUM + r"[\s-]*(working[\s-]|business[\s-]|calendar[\s-])?\s*(day|week|month|year)s?\b", re.I)
_AMOUNT = re.compile(r"([$£€])\s?(\d[\d,]*(?:\.\d+)?)|(\d[\d,]*(?:\.\d+)?)\s?(dollars|euros|pounds|USD|EUR|GBP)\b", re.I)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?(%|percent\b|per cent\b)", re.I)
_REMEDIES = {
    "refund": r"refund\w*|money back",
    "replacement": r"replac\w*",
    "repair": r"repair\w*",
    "exchange": r"exchang\w*",
    "store credit": r"store credit|credit note",
    "voucher": r"voucher\w*|gift card\w*|coupon\w*",
    "discount": r"discount\w*",
    "compensation": r"compensat\w*",
    "free postage": r"(?:free|prepaid)\s+(?:\w+\s+)?(?:postage|shipping|returns? label|label|delivery)",
}
_REMEDY = {k: re.compile(rf"\b(?:{v})\b", re.I) for k, v in _REMEDIES.items()}
#: A sentence ends at . ! or ? (with the citations right after it); a point between digits ("$4.95") does not
#: end one.
_SENTENCE = re.compile(r"(?:[^.!?\n]|\.(?=\d))+(?:[.!?]+(?:\s*\[\d[^\]]*\])*|$)")
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_WORD = re.compile(r"[A-Za-z][A-Za-z]*")
#: Term kinds whose value a policy states per product or case (a remedy is checked as stated, not per product).
_SCOPED_KINDS = ("duration", "amount", "percent")
#: "all our products", "every product", "any item": a claim about the whole of what the noun names.
_UNIVERSAL = re.compile(r"\b(?:all|every|any|each)\s+(?:of\s+)?(?:our\s+|the\s+|your\s+)?([A-Za-z]+)", re.I)
#: Words that never name what a term applies to (function words, and words that frame a term).
_NOT_SCOPES = STOPWORDS | frozenset("including include includes within until since per plus via covered cover "
                                    "covers free full get back".split())


@dataclass(frozen=True)
class Term:
    """A policy term found in text: ``kind`` (duration | amount | percent | remedy), ``text`` as written, and
    ``key``, the normalized value compared between sentence and source ("12 month", "$49", "10%", "refund")."""

    kind: str
    text: str
    key: str


def _number(word: str) -> float:
    return float(_NUMBER_WORDS.get(word.lower(), None) or word.replace(",", ""))


def _duration_key(n: float, qualifier: str, unit: str) -> str:
    unit = unit.lower()
    qual = "working " if qualifier and qualifier.lower().startswith(("working", "business")) else ""
    if unit == "year":
        n, unit = n * 12, "month"  # 1 year = 12 months
    return f"{n:g} {qual}{unit}"


def policy_terms(text: str) -> list[Term]:
    """The policy terms in ``text`` (module docstring), in order of appearance, each once by key."""
    found: list[tuple[int, Term]] = []
    for m in _DURATION.finditer(text):
        if m.group(1).lower() in ("a", "an") and not re.match(r"an?\s+(day|week|month|year)\b", m.group(0), re.I):
            continue
        found.append((m.start(), Term("duration", m.group(0), _duration_key(_number(m.group(1)), m.group(2) or "",
                                                                             m.group(3)))))
    for m in _AMOUNT.finditer(text):
        symbol = m.group(1) or {"dollars": "$", "usd": "$", "euros": "€", "eur": "€", "pounds": "£",
                                "gbp": "£"}[m.group(4).lower()]
        value = float((m.group(2) or m.group(3)).replace(",", ""))
        found.append((m.start(), Term("amount", m.group(0), f"{symbol}{value:g}")))
    for m in _PERCENT.finditer(text):
        found.append((m.start(), Term("percent", m.group(0), f"{float(m.group(1)):g}%")))
    for key, rx in _REMEDY.items():
        m = rx.search(text)
        if m:
            found.append((m.start(), Term("remedy", m.group(0), key)))
    out: list[Term] = []
    for _pos, term in sorted(found, key=lambda x: x[0]):
        if term.key not in {t.key for t in out}:
            out.append(term)
    return out


def sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text`` (a citation right after the full stop belongs to it)."""
    out = []
    for m in _SENTENCE.finditer(text):
        chunk = m.group(0)
        lead = len(chunk) - len(chunk.lstrip())
        start, end = m.start() + lead, m.end() - (len(chunk) - len(chunk.rstrip()))
        if end > start and any(c.isalnum() for c in text[start:end]):
            out.append((start, end))
    return out


def _keys(text: str) -> set[str]:
    return {t.key for t in policy_terms(text)}


def _stem(word: str) -> str:
    """``word`` lowercased without one inflection ending ("arrives", "arrived", "arrive" -> "arriv"; "TVs" ->
    "tv"), enough to match a sentence's word with the source's."""
    word = word.lower()
    for ending in ("ing", "ed", "es", "s", "e"):
        if word.endswith(ending) and len(word) - len(ending) >= 2 and not word.endswith("ss"):
            return word[:-len(ending)]
    return word


@dataclass(frozen=True)
class _Unit:
    """One line or sentence of a source, with its scoped terms by kind, its words (stemmed) and the nouns it
    states something about as a whole ("every product": ``product``)."""

    source: Source
    text: str
    keys: dict[str, frozenset[str]]
    words: frozenset[str]
    universal: frozenset[str]


def _units(sources: Sequence[Source]) -> list[_Unit]:
    out = []
    for s in sources:
        for line in s.text.splitlines():
            for start, end in sentences(line):
                text = line[start:end]
                terms = policy_terms(text)
                out.append(_Unit(s, text, {k: frozenset(t.key for t in terms if t.kind == k) for k in _SCOPED_KINDS},
                                 frozenset(_stem(w) for w in _WORD.findall(text)),
                                 frozenset(_stem(m.group(1)) for m in _UNIVERSAL.finditer(text))))
    return out


def scope_conflict(sentence: str, terms: Sequence[Term], sources: Sequence[Source]) -> tuple[Term, str, list[_Unit]] | None:
    """The first of ``terms`` (policy terms of ``sentence`` that ``sources`` do state somewhere) that the
    sources state only for something other than what ``sentence`` names, as ``(term, word, units)``; None when
    there is no such conflict.

    The rule: each content word of the sentence (outside its terms and :data:`~docgen.claims.words.STOPWORDS`)
    is looked up in the lines and sentences of the sources that state a term of the same kind, and gathers the
    terms those lines state. "TVs" is in one row of a warranty table and gathers only "24 months"; "product"
    is in many lines and gathers every period. A word that gathers few terms, none of them the sentence's,
    names a scope the sources give another term ("a 12-month warranty on our TVs"): that is a conflict, unless
    another word of the sentence that gathers as few terms or fewer does agree ("our Northwind Audio speaker
    has 24 months": "Audio" gathers only 24 months, "speaker" only 12, so the sentence is not marked)."""
    if not terms or not sources:
        return None
    spans = [(m.start(), m.end()) for m in (*_DURATION.finditer(sentence), *_AMOUNT.finditer(sentence),
                                           *_PERCENT.finditer(sentence))]
    said = {k: {t.key for t in policy_terms(sentence) if t.kind == k} for k in _SCOPED_KINDS}
    units = _units(sources)
    words: dict[str, str] = {}
    for m in _WORD.finditer(sentence):
        word = _stem(m.group(0))
        if word not in words and m.group(0).lower() not in _NOT_SCOPES and not any(a <= m.start() < b for a, b in spans):
            words[word] = m.group(0)
    for term in terms:
        if term.kind not in _SCOPED_KINDS:
            continue
        stating = [u for u in units if u.keys[term.kind]]
        gathered = {}
        for w in words:
            having = [u for u in stating if w in u.words]
            if having:
                gathered[w] = (set().union(*(u.keys[term.kind] for u in having)), having)
        agree = [len(keys) for keys, _ in gathered.values() if keys & said[term.kind]]
        order = list(words)
        disagree = sorted((len(keys), order.index(w), w) for w, (keys, _) in gathered.items()
                          if not keys & said[term.kind])
        if disagree and (not agree or min(agree) > disagree[0][0]):
            w = disagree[0][2]
            return term, words[w], gathered[w][1]
        # "a 6-month warranty on all our products" against "Every product ... is covered ... for 12 months": a
        # claim about every X is checked against what the sources say about every X, unless a more specific
        # word of the sentence agrees ("tell us within 14 days if any product arrives damaged")
        for m in _UNIVERSAL.finditer(sentence):
            noun = _stem(m.group(1))
            general = [u for u in stating if noun in u.universal]
            keys = set().union(*(u.keys[term.kind] for u in general)) if general else set()
            if keys and not keys & said[term.kind] and not any(n < len(keys) for n in agree):
                return term, m.group(0), general
    return None


def _scope_mark(sentence: str, start: int, end: int, conflict: tuple[Term, str, list[_Unit]]) -> Mark:
    term, word, units = conflict
    says = sorted({t.text for u in units for t in policy_terms(u.text) if t.kind == term.kind})
    where = _where(units[0].source)
    return Mark("policy", sentence, start, end, term.text,
                f"'{term.text}' is not what {where} says for {word}: it says {', '.join(says)}. Correct the "
                "term or remove the sentence.", "\n".join(dict.fromkeys(u.text for u in units)))


def _where(source: Source) -> str:
    return f"[{source.number}] {source.label}"


def policy_marks(text: str, sources: Sequence[Source], data_texts: Iterable[str] = ()) -> list[Mark]:
    """Marks for the sentences of ``text`` whose policy terms the cited ``sources`` do not support (module
    docstring). ``data_texts``: the record/data the section was written from; terms they state are not policy
    claims. Returns marks in text order; offsets index ``text``."""
    given = {s.number: s for s in sources}
    source_keys = {s.number: _keys(s.text) for s in sources}
    data_keys: set[str] = set()
    for d in data_texts:
        data_keys |= _keys(d)
    marks: list[Mark] = []
    for start, end in sentences(text):
        sentence = text[start:end]
        numbers = [n for m in CITATION.finditer(sentence) for n in cited_numbers(m.group(1))]
        unknown = [n for n in numbers if n not in given]
        if unknown:
            marks.append(Mark("citation", sentence, start, end, f"[{unknown[0]}]",
                              f"Cites source [{unknown[0]}], which this section was not given "
                              f"({len(sources)} source{'s' if len(sources) != 1 else ''}). Remove the citation "
                              "or cite the right source.",
                              "; ".join(_where(s) for s in sources)))
        terms = [t for t in policy_terms(CITATION.sub("", sentence)) if t.key not in data_keys]
        if not terms:
            continue
        cited = [n for n in numbers if n in given]
        if cited:
            have = set().union(*(source_keys[n] for n in cited))
            conflict = scope_conflict(CITATION.sub("", sentence), [t for t in terms if t.key in have],
                                      [given[n] for n in cited])
            if conflict:
                marks.append(_scope_mark(sentence, start, end, conflict))
            for term in terms:
                if term.key in have:
                    continue
                elsewhere = [s for s in sources if term.key in source_keys[s.number]]
                same_kind = sorted({t.text for n in cited for t in policy_terms(given[n].text) if t.kind == term.kind})
                hint = (f" Source {_where(elsewhere[0])} says it: cite that one." if elsewhere else
                        f" The cited source says: {', '.join(same_kind)}." if same_kind else
                        " Check the promise against the policy.")
                # the term is in another source the section was given: a wrong citation, not a false promise
                marks.append(Mark("citation" if elsewhere else "policy", sentence, start, end, term.text,
                                  f"'{term.text}' is not in the cited source"
                                  f"{'s' if len(cited) > 1 else ''} ({', '.join(f'[{n}]' for n in cited)}).{hint}",
                                  (elsewhere[0] if elsewhere else given[cited[0]]).text))
            continue
        claim = ", ".join(t.text for t in terms)
        nowhere = [t for t in terms if not any(t.key in source_keys[s.number] for s in sources)]
        if nowhere:
            what = ", ".join(t.text for t in nowhere)
            marks.append(Mark("policy", sentence, start, end, what,
                              f"Promises {what} without citing a source, and none of the sources given says so: "
                              "check it against the policy or remove it.", ""))
            continue
        conflict = scope_conflict(sentence, terms, sources)
        if conflict:
            marks.append(_scope_mark(sentence, start, end, conflict))
            continue
        support = [s for s in sources if all(t.key in source_keys[s.number] for t in terms)] or [
            next(s for s in sources if t.key in source_keys[s.number]) for t in terms]
        cite = " ".join(f"[{s.number}]" for s in dict.fromkeys(support[:2]))
        marks.append(Mark("uncited", sentence, start, end, claim,
                          f"States a policy term ({claim}) without citing a source; {_where(support[0])} says it: "
                          f"add {cite}.", support[0].text))
    return marks


__all__ = ["Term", "policy_terms", "policy_marks", "scope_conflict", "sentences", "cited_numbers"]
