"""The claim check: every sentence of a section's text against what the document was made from.

:func:`check_text` returns one :class:`~docgen.model.Mark` per problem, anchored on its sentence
(:mod:`.sentences`), in text order. The kinds, and the rule behind each (what counts as support is in
:class:`Sources`):

``markup``
    Chat-template markup (``<|im_start|>``, ``<|eot_id|>``, ``<think>``, ``</s>``, ``[INST]``) left in the
    text. The cleanup removes it before the check; a mark here means it came back (an edit, a new backend).
``placeholder``
    A gap for a person to fill: ``[url]``, ``[Your Name]`` (square brackets around 2-40 characters with a
    letter, not a Markdown link).
``unsupported``
    A figure (number, money, percentage, date) the data does not hold and does not follow from
    (:mod:`.figures`, whose tolerance rules apply).
``misattributed``
    A figure the data holds, but not for what the sentence attaches it to. In the clause that has the figure
    (clauses end at ``;``, ``but``, ``while``, ``whereas``, ``, and``, ``compared to``, ``ahead of``,
    ``followed by``, ``than``), the entity named nearest before it (else the first after it) owns it: the
    figure must be a fact of that entity or a document-wide fact. A figure introduced as ``overall``,
    ``total``, ``average``, ``in total``, ``altogether``, ``combined``, ``across all`` (in a clause naming no
    entity) must be a document-wide fact.
``derived``
    A growth, change or difference (``an 18% increase``, ``rose by $5,000``, ``up 3%``, ``a gap of``) is
    supported only when the fact sheet holds such a derived fact with that value; a plain fact of the same
    value is not enough.
``entity``
    A name used as a value of a categorical column that is not one: next to the column's noun (``North
    region``, ``Technology region``, ``the strongest region was Technology``, ``the West and North
    regions``), or in a range or list with real values (``from breakfast to dinner`` when the data's values
    are Lunch and Dinner).
``name``
    A proper name (place, organisation, person, product, award: ``Paris``, ``Michelin-starred``, ``Tour de
    la Lumière``) whose words occur nowhere in the data, the fields, the prompt or the reference passages.
    Capitalized words inside a sentence are judged; a sentence's first word only when a capitalized word
    follows it and it is not a common sentence start (:mod:`.words`). Day and month names and business
    abbreviations (CEO, KPI) are not names.
``echo``
    A sentence copied from the section's instruction or the system prompt (at least 4 content words, 70 %
    of them the instruction's, e.g. "One paragraph on the overall mood with counts, followed by a bullet
    list"), or from the prompt's data lines (80 % of its words in 4-word runs of the prompt, at least 3
    words: "Details: Restaurant: Bryant Bistro"). The reference passages in the prompt are not data lines: a
    sentence restating the policy clause it cites is checked as a claim, not taken for an echo.
``commitment`` (when :attr:`Sources.offers` is set: rows templates)
    An offer the template's fields do not make: refund, replacement, discount, voucher, credit,
    compensation, repair, upgrade, free/complimentary, a deadline (``within 24 hours``, ``by Friday``), or
    an e-mail address, phone number or web address not in the fields or the prompt; and a refusal of what
    the fields do offer (``we cannot provide this service``).

Pure Python, no heavy imports; it never changes the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from docgen.claims.figures import Claim, Evidence, extract_claims
from docgen.claims.sentences import Sentence, sentence_spans
from docgen.claims.words import ACRONYMS, CALENDAR, COMMON_STARTS, STOPWORDS
from docgen.facts import Fact, FactSheet
from docgen.model import Mark


@dataclass(frozen=True)
class Passage:
    """A passage of a reference document that prose may rely on (a policy clause, an FAQ answer): its words
    count as known names, its figures as evidence, and an offer it states as offered. ``id`` is how a mark's
    evidence cites it (``returns-policy#3``)."""

    id: str
    text: str
    title: str = ""


@dataclass
class Sources:
    """What a section's text may rely on.

    ``evidence``: the figures (:func:`docgen.claims.figures.evidence_values`); ``facts``: the fact sheet
    (entities and their facts), or None; ``instruction``: the section's rendered instruction; ``system``: the
    system prompt; ``prompt``: everything the model read; ``vocabulary``: lower-case words of the data, the
    fields and the prompt (:func:`vocabulary`); ``passages``: reference passages; ``offers``: what the
    template offers (the fields' values of a rows template), None when commitments are not checked.
    """

    evidence: Evidence = field(default_factory=Evidence)
    facts: FactSheet | None = None
    instruction: str = ""
    system: str = ""
    prompt: str = ""
    vocabulary: frozenset[str] = frozenset()
    passages: Sequence[Passage] = ()
    offers: str | None = None


_WORD = re.compile(r"[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'’]*")


def words_of(text: str) -> list[str]:
    """Lower-case words of ``text`` (letters and apostrophes; hyphenated words give their parts)."""
    return [w.lower().strip("'’") for w in _WORD.findall(text)]


def vocabulary(texts: Iterable[str], limit: int = 2_000_000) -> frozenset[str]:
    """Every lower-case word of ``texts`` (reading at most ``limit`` characters in all), for the name rule."""
    out: set[str] = set()
    read = 0
    for t in texts:
        if not t:
            continue
        t = t[: max(0, limit - read)]
        read += len(t)
        out.update(words_of(t))
        if read >= limit:
            break
    return frozenset(out)


# -- markup and placeholders ------------------------------------------------------------------------------------

MARKUP = re.compile(r"<\|[^|<>\s]{1,40}\|>|</?(?:think|thinking|reasoning)>|</?s>|\[/?INST\]|<</?SYS>>"
                    r"|<(?:start|end)_of_turn>", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\[(?=[^\]\n]*[A-Za-z])[^\]\n\[]{2,40}\](?!\()")

# -- figures in context ----------------------------------------------------------------------------------------

_CLAUSE = re.compile(r";|\bbut\b|\bwhile\b|\bwhereas\b|,\s*and\b|\bcompared (?:to|with)\b|\bversus\b|\bvs\.?\s"
                     r"|\bahead of\b|\bfollowed by\b|\bbehind\b|\bthan\b|\bunlike\b", re.IGNORECASE)
_OVERALL = re.compile(r"\b(?:overall|total|in total|altogether|combined|across all|company-wide|grand total|"
                      r"average|on average|whole|entire)\b", re.IGNORECASE)
_CHANGE = re.compile(r"\b(?:increase[sd]?|decrease[sd]?|growth|grew|grow(?:s|ing)?|rose|rise[sn]?|rising|fell|"
                     r"fall(?:s|en|ing)?|decline[sd]?|declining|drop(?:s|ped)?|jump(?:s|ed)?|surge[sd]?|gain(?:s|ed)?|"
                     r"up|down|change[sd]?|difference|gap|year[- ]over[- ]year|year on year|yoy|"
                     r"last (?:year|quarter|month|week)|previous (?:year|quarter|month|period)|higher|lower|boost(?:ed)?"
                     r"|improve[sd]?|improvement)\b", re.IGNORECASE)
_CHANGE_NOUN = re.compile(r"\W*(?:increase|decrease|growth|rise|drop|decline|gain|jump|fall|improvement|"
                          r"change|difference|gap|boost|uplift)\b", re.IGNORECASE)
_LEVEL = re.compile(r"\b(?:rose|grew|fell|increased|decreased|dropped|climbed|jumped|declined|rising|falling)\s+to\s*$",
                    re.IGNORECASE)
_APPROX_BEFORE = re.compile(r"(?:more|less|fewer|higher|lower) than\s*$", re.IGNORECASE)


def _clauses(sentence: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _CLAUSE.finditer(sentence):
        spans.append((start, m.start()))
        start = m.start()
    spans.append((start, len(sentence)))
    return spans


def _entity_mentions(sentence: str, entities: Mapping[str, str]) -> list[tuple[int, int, str]]:
    """(start, end, entity) of every entity value named in ``sentence`` (case-sensitive, whole words,
    longest first, no overlaps)."""
    found: list[tuple[int, int, str]] = []
    taken = [False] * (len(sentence) + 1)
    for value in sorted(entities, key=len, reverse=True):
        if len(value) < 2:
            continue
        for m in re.finditer(rf"(?<![\w-]){re.escape(value)}(?![\w-])", sentence):
            if not any(taken[m.start():m.end()]):
                for i in range(m.start(), m.end()):
                    taken[i] = True
                found.append((m.start(), m.end(), value))
    return sorted(found)


def _owner(claim_pos: int, clause: tuple[int, int], mentions: list[tuple[int, int, str]]) -> str | None:
    a, b = clause
    before = [m for m in mentions if a <= m[0] and m[1] <= claim_pos]
    if before:
        return before[-1][2]
    after = [m for m in mentions if claim_pos <= m[0] and m[1] <= b]
    return after[0][2] if after else None


def _fact_evidence(facts: Iterable[Fact]) -> Evidence:
    ev = Evidence()
    nums: set[float] = set()
    pcts: set[float] = set()
    for f in facts:
        if f.number is None:
            continue
        if f.kind == "percent":
            pcts.add(abs(f.number))
        else:
            nums.add(abs(f.number))
            if f.kind != "count":
                pcts.add(abs(f.number))
    ev.numbers = sorted(nums)
    ev.percents = sorted(pcts)
    return ev


def _kind_ok(fact: Fact, claim: Claim) -> bool:
    if claim.kind == "percent":
        return fact.kind == "percent"
    return fact.kind != "percent" and fact.kind != "text"


def _closest(facts: Sequence[Fact], claim: Claim, sentence: str) -> list[Fact]:
    """Facts of the claim's kind, those whose measure the sentence names first, then by closeness of value."""
    low = sentence.lower()
    pool = [f for f in facts if f.number is not None and _kind_ok(f, claim)]

    def named(f: Fact) -> bool:
        words = set(words_of(f.measure)) - {"share"}
        if f.measure == "share":
            return "share" in low or "of total" in low or "of the total" in low
        if "/" in f.measure:
            return "margin" in low or any(w in low for w in words_of(f.measure.split("/")[0]))
        return bool(words) and any(w in low for w in words)

    value = abs(float(claim.value)) if not hasattr(claim.value, "year") else 0.0  # type: ignore[arg-type]
    return sorted(pool, key=lambda f: (not named(f), abs(abs(f.number or 0) - value)))


def _says(facts: Sequence[Fact]) -> str:
    return "; ".join(f"{f.label}: {f.value}" for f in facts)


def _figure_marks(s: Sentence, sources: Sources, entities: Mapping[str, str]) -> list[Mark]:
    out: list[Mark] = []
    facts = sources.facts
    claims = extract_claims(s.text)
    if not claims:
        return out
    mentions = _entity_mentions(s.text, entities) if facts else []
    clauses = _clauses(s.text)
    contacts = [m.span() for rx in (_EMAIL, _URL, _PHONE) for m in rx.finditer(s.text)
                if rx is not _PHONE or len(re.sub(r"\D", "", m.group(0))) >= 8]
    for c in claims:
        if any(a <= c.span[0] < b for a, b in contacts):
            continue  # digits of an e-mail address, web address or phone number are not figures
        clause = next((cl for cl in clauses if cl[0] <= c.span[0] < cl[1]), (0, len(s.text)))
        if not sources.evidence.supports(c):
            owner = _owner(c.span[0], clause, mentions) if facts else None
            say = _closest(facts.of(owner) if facts else [], c, s.text)[:1] if facts and c.kind != "date" else []
            if facts and not say and c.kind != "date":
                say = _closest(facts.of(None), c, s.text)[:1]
            out.append(_mark("unsupported", s, c.text, f"'{c.text}' is not in the data", _says(say)))
            continue
        if facts is None or c.kind == "date":
            continue
        owner = _owner(c.span[0], clause, mentions)
        clause_text = s.text[clause[0]:c.span[0]]
        window_before = " ".join(s.text[clause[0]:c.span[0]].split()[-4:])
        window_after = " ".join(s.text[c.span[1]:clause[1]].split()[:2])
        changes = bool(_CHANGE.search(window_before) or _CHANGE_NOUN.match(window_after)) \
            and not _APPROX_BEFORE.search(s.text[:c.span[0]]) and not _LEVEL.search(window_before)
        if changes:
            derived = [f for f in facts.facts if f.derived and f.measure.startswith(("change", "difference"))]
            if not _fact_evidence(derived).supports(c):
                out.append(_mark("derived", s, c.text,
                                 f"'{c.text}' is given as a change or difference, which the data's facts do not "
                                 "hold (docgen computes no growth or difference it was not asked for).",
                                 _says(_closest(derived, c, s.text)[:1])))
                continue
        if owner is not None:
            own = facts.of(owner)
            if own and not _fact_evidence(own).supports(c) and not _fact_evidence(facts.of(None)).supports(c):
                holders = [f for f in facts.facts if f.entity not in (None, owner)
                           and _kind_ok(f, c) and _fact_evidence([f]).supports(c)]
                where = f" It is {holders[0].label} ({holders[0].value})." if holders else ""
                out.append(_mark("misattributed", s, c.text, f"'{c.text}' is not a figure of {owner}.{where}",
                                 _says(_closest(own, c, s.text)[:2])))
            continue
        if _OVERALL.search(" ".join(clause_text.split()[-5:])):
            wide = facts.of(None)
            if wide and not _fact_evidence(wide).supports(c):
                holders = [f for f in facts.facts if f.entity is not None and _kind_ok(f, c)
                           and _fact_evidence([f]).supports(c)]
                where = f" It is {holders[0].label} ({holders[0].value})." if holders else ""
                out.append(_mark("misattributed", s, c.text,
                                 f"'{c.text}' is given as an overall figure, but it is not the document-wide one.{where}",
                                 _says(_closest(wide, c, s.text)[:1])))
    return out


# -- entities ------------------------------------------------------------------------------------------------

_CAP = r"[A-Z][\w&'’.-]*"


def _entity_marks(s: Sentence, facts: FactSheet | None) -> list[Mark]:
    if facts is None or not facts.dimensions:
        return []
    out: list[Mark] = []
    values = {dim: {v.lower() for v in vals} for dim, vals in facts.dimensions.items()}
    known_any = {v.lower(): dim for dim, vals in facts.dimensions.items() for v in vals}
    seen: set[str] = set()

    def judge(name: str, dim: str) -> None:
        name = re.sub(r"^(?:The|the|This|this)\s+", "", name.strip(" ,"))
        if not name or name.lower() in values[dim] or name in seen or name.lower() in STOPWORDS:
            return
        seen.add(name)
        noun = facts.nouns.get(dim, dim.lower())
        listed = ", ".join(facts.dimensions[dim][:12])
        other = known_any.get(name.lower())
        if other and other != dim:
            msg = f"'{name}' is a {facts.nouns.get(other, other.lower())}, not a {noun}."
        else:
            msg = f"The data has no {noun} '{name}'."
        out.append(_mark("entity", s, name, msg, f"The {noun} values are: {listed}."))

    for dim, noun in facts.nouns.items():
        if dim not in values:
            continue
        n = re.escape(noun)
        plural = n[:-1] + "ies" if noun.endswith("y") else n + "s"
        # "North region", "the West and North regions", "Technology region"
        pat = rf"((?:{_CAP})(?:(?:\s*,\s*|\s+and\s+|\s+or\s+|\s*&\s*|\s+)(?:{_CAP}))*)\s+(?:{n}|{plural})\b"
        for m in re.finditer(pat, s.text):
            if m.group(1).lower() in values[dim]:
                continue
            for name in re.split(r"\s*,\s*|\s+and\s+|\s+or\s+|\s*&\s*", m.group(1)):
                words = [w for w in name.split() if w not in ("The", "This", "Our", "Its", "Their")]
                if words and not any(" ".join(words[k:]).lower() in values[dim] for k in range(len(words))):
                    judge(" ".join(words), dim)
        # "the strongest region was Technology"
        for m in re.finditer(rf"\b(?i:{n}|{plural})\s+(?i:was|is|were|are|being)\s+(?:the\s+)?({_CAP}(?:\s+{_CAP})*)",
                             s.text):
            judge(m.group(1), dim)
        # ranges and lists with a real value: "from breakfast to dinner", "between Lunch and brunch"
        for m in re.finditer(r"\b(?:from|between)\s+([A-Za-z][\w-]*)\s+(?:to|and)\s+([A-Za-z][\w-]*)\b", s.text):
            a, b = m.group(1), m.group(2)
            if a.lower() in values[dim] and b.lower() not in values[dim] and b.lower() not in known_any:
                judge(b, dim)
            elif b.lower() in values[dim] and a.lower() not in values[dim] and a.lower() not in known_any:
                judge(a, dim)
    return out


# -- names -----------------------------------------------------------------------------------------------------

_NAME_TOKEN = re.compile(r"[A-Za-z\u00C0-\u024F][\w'’\u00C0-\u024F]*(?:-[\w\u00C0-\u024F]+)*")
_CONNECT = {"de", "la", "le", "du", "des", "of", "the", "van", "von", "da", "di", "del", "y", "and", "&"}


def _name_marks(s: Sentence, sources: Sources) -> list[Mark]:
    vocab = sources.vocabulary
    if not vocab:
        return []
    text = s.text
    tokens = list(_NAME_TOKEN.finditer(text))
    out: list[Mark] = []
    i = 0
    first_idx = 0
    while i < len(tokens):
        t = tokens[i]
        word = t.group(0)
        if not word[0].isupper() or any(ch.isdigit() for ch in word) or _in_brackets(text, t.start()):
            i += 1
            continue
        # a run of capitalized words, allowing connectors ("Tour de la Lumière")
        j = i + 1
        while j < len(tokens):
            w = tokens[j].group(0)
            gap = text[tokens[j - 1].end():tokens[j].start()]
            if gap.strip(" ") or "\n" in gap:
                break
            if w[0].isupper():
                j += 1
                continue
            q = j
            while q < len(tokens) and tokens[q].group(0).lower() in _CONNECT:
                q += 1
            if q > j and q < len(tokens) and tokens[q].group(0)[0].isupper() and w.lower() not in ("and", "&", "the"):
                j = q
            else:
                break
        run = tokens[i:j]
        at_start = i == first_idx or _starts_sentence(text, t.start())
        unknown = [r.group(0) for r in run if _unknown(r.group(0), vocab)]
        if unknown:
            lead_only = at_start and len(run) == 1
            lead_common = at_start and run[0].group(0).lower() in COMMON_STARTS
            if not lead_only and not (lead_common and len(unknown) == 1 and unknown[0] == run[0].group(0)):
                name = text[run[0].start():run[-1].end()]
                if at_start and run[0].group(0).lower() in COMMON_STARTS | STOPWORDS and len(run) > 1:
                    name = text[run[1].start():run[-1].end()]
                out.append(_mark("name", s, name, f"'{name}' is named nowhere in the data, the fields or the "
                                 "prompt: an invented name.", ""))
        i = j
    return out


def _in_brackets(text: str, pos: int) -> bool:
    """True inside ``[...]`` (a placeholder, marked as such)."""
    return text.rfind("[", 0, pos) > text.rfind("]", 0, pos)


def _starts_sentence(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" *_\"'“‘(")
    return not before or before[-1] in ":.!?;-–—\n"


def _unknown(word: str, vocab: frozenset[str]) -> bool:
    parts = [p for p in re.split(r"[-'’]", word) if p]
    for p in parts:
        if not p[0].isupper():
            continue
        low = p.lower()
        if low in vocab or low in CALENDAR or low in ACRONYMS or low in ("i",) or len(p) < 2:
            continue
        if low.endswith("s") and low[:-1] in vocab:
            continue
        return True
    return False


# -- echo ------------------------------------------------------------------------------------------------------

def _content(text: str) -> list[str]:
    return [w for w in words_of(text) if w not in STOPWORDS and len(w) > 2]


def _coverage(words: list[str], grams: set[tuple[str, ...]], n: int) -> float:
    covered = [False] * len(words)
    for k in range(len(words) - n + 1):
        if tuple(words[k:k + n]) in grams:
            for q in range(k, k + n):
                covered[q] = True
    return sum(covered) / len(words) if words else 0.0


def _plain_words(text: str) -> list[str]:
    words = [w.lower().strip(".,'-") for w in re.findall(r"[\w$%.,'-]+", text.replace("*", " ").replace("_", " "))]
    return [w for w in words if w]


def _echo_marks(s: Sentence, sources: Sources, grams: set[tuple[str, ...]]) -> list[Mark]:
    words = _plain_words(s.text)
    for source, what in ((sources.instruction, "the section's instruction"), (sources.system, "the system prompt")):
        if not source or len(words) < 8:
            continue
        src = _plain_words(source)
        tri = {tuple(src[i:i + 3]) for i in range(len(src) - 2)}
        if _coverage(words, tri, 3) >= 0.6:
            return [_mark("echo", s, s.text, f"This sentence repeats {what} instead of writing the section.", "")]
    if len(words) >= 3 and grams:
        if _coverage(words, grams, 4 if len(words) >= 4 else 3) >= 0.8:
            return [_mark("echo", s, s.text, "This sentence is copied from the prompt's data lines.", "")]
    return []


def _prompt_grams(prompt: str) -> set[tuple[str, ...]]:
    words = _plain_words(prompt)
    grams: set[tuple[str, ...]] = set()
    for n in (3, 4):
        grams.update(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    return grams


# -- commitments -----------------------------------------------------------------------------------------------

_OFFER_GROUPS = {
    "refund": r"refund\w*|reimburs\w*|money back|cash ?back",
    "replacement": r"replac\w*|exchange\w*|new (?:one|unit|device)",
    "free": r"free(?: of charge)?|complimentary|at no (?:extra )?(?:cost|charge)|no charge",
    "discount": r"discount\w*|voucher\w*|coupon\w*|gift card\w*|store credit|credit note|\d+\s?% off|promo code",
    "compensation": r"compensat\w*|goodwill (?:gesture|payment)",
    "repair": r"repair\w*",
    "upgrade": r"upgrad\w*",
    "shipping": r"(?:free |express |expedited )?shipping|prepaid (?:return )?label|return label|courier pick-?up",
}
_CUE = re.compile(r"\b(?:we(?:'ll| will| can| could| would| are happy| are pleased| are glad| are offering| offer|"
                  r"'d like| would like| have (?:issued|arranged|sent|processed)| are sending| shall)|you(?:'ll| will) "
                  r"(?:receive|get)|offering|to offer|please accept|is on its way|let us)\b", re.IGNORECASE)
_REFUSE = re.compile(r"\b(?:cannot|can't|can not|unable to|not able to|won't|will not|are not able|do not offer|"
                     r"don't offer|no longer offer|regret (?:that|to inform)|not possible to)\b[^.!?]{0,60}?\b"
                     r"(?:provide|offer|give|refund|replace|honou?r|process|accept|arrange|help|assist|send|issue)\w*",
                     re.IGNORECASE)
_DEADLINE = re.compile(r"\b(?:within (?:the next )?\d+(?:\s?-\s?\d+)?\s*(?:business |working )?(?:hours?|days?|weeks?)"
                       r"|within (?:a|one|two|three|24|48) (?:business |working )?(?:hours?|days?|weeks?)"
                       r"|by (?:tomorrow|tonight|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
                       r"the end of (?:the )?(?:day|week|month))|next (?:week|monday|tuesday|wednesday|thursday|"
                       r"friday)|(?:today|tomorrow) (?:by|before)|in (?:\d+|two|three|a few) (?:business |working )?"
                       r"days)\b", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s)\]]+", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d ()./-]{6,}\d(?![\w])")


def _commitment_marks(s: Sentence, sources: Sources) -> list[Mark]:
    offers = sources.offers
    if offers is None:
        return []
    known = (offers + "\n" + sources.prompt + "\n" + "\n".join(p.text for p in sources.passages)).lower()
    offer_text = (offers + "\n" + "\n".join(p.text for p in sources.passages)).lower()
    out: list[Mark] = []
    text = s.text
    for rx, what in ((_EMAIL, "e-mail address"), (_URL, "web address"), (_PHONE, "phone number")):
        for m in rx.finditer(text):
            token = m.group(0).rstrip(".,;")
            digits = re.sub(r"\D", "", token)
            if what == "phone number" and len(digits) < 8:
                continue
            found = token.lower() in known if what != "phone number" else digits in re.sub(r"\D", "", known)
            if not found:
                out.append(_mark("commitment", s, token, f"This {what} is not one the template gives ({token}).",
                                 f"The template's fields: {offers.strip() or 'none'}."))
    refusal = _REFUSE.search(text)
    offered = [g for g, rx in _OFFER_GROUPS.items() if re.search(rf"\b(?:{rx})", offer_text)]
    if refusal and offered:
        out.append(_mark("commitment", s, refusal.group(0), "This sentence refuses what the template offers.",
                         f"The template's fields: {offers.strip()}."))
        return out
    if _CUE.search(text) or re.search(r"\b(?:offer|provide|send|give|issue)\w*\b", text, re.IGNORECASE):
        for group, rx in _OFFER_GROUPS.items():
            m = re.search(rf"\b(?:{rx})", text, re.IGNORECASE)
            if m and group not in offered:
                out.append(_mark("commitment", s, m.group(0),
                                 f"'{m.group(0)}' is an offer the template does not make.",
                                 f"The template's fields: {offers.strip() or 'none'}."))
    for m in _DEADLINE.finditer(text):
        if m.group(0).lower() not in known:
            out.append(_mark("commitment", s, m.group(0), f"'{m.group(0)}' is a deadline the template does not give.",
                             f"The template's fields: {offers.strip() or 'none'}."))
    return out


# -- the check -------------------------------------------------------------------------------------------------

def _mark(kind: str, s: Sentence, claim: str, message: str, evidence: str) -> Mark:
    return Mark(kind, s.text, s.start, s.end, claim, message, evidence)


def check_text(text: str, sources: Sources) -> list[Mark]:
    """Every problem of ``text`` (a markdown/text section) against ``sources``, as marks anchored on their
    sentences, in text order; each (sentence, kind, claim) once. See the module docstring for the rules."""
    if not text or not text.strip():
        return []
    entities = sources.facts.entity_values() if sources.facts else {}
    grams = _prompt_grams(sources.prompt) if sources.prompt else set()
    if grams and sources.passages:
        # a reference passage in the prompt is evidence, not scaffolding: a reply that restates the policy
        # clause it cites ("we repair it free of charge [3]") is not a copy of the prompt's data lines
        grams -= set().union(*(_prompt_grams(p.text) for p in sources.passages))
    marks: list[Mark] = []
    for s in sentence_spans(text):
        found: list[Mark] = []
        for m in MARKUP.finditer(s.text):
            found.append(_mark("markup", s, m.group(0), f"Chat-template markup '{m.group(0)}' is not prose.", ""))
        for m in PLACEHOLDER.finditer(s.text):
            found.append(_mark("placeholder", s, m.group(0),
                               f"'{m.group(0)}' is a gap for a person to fill; docgen does not know what goes there.",
                               ""))
        echo = _echo_marks(s, sources, grams)
        found += echo
        if not echo:
            found += _figure_marks(s, sources, entities)
            found += _entity_marks(s, sources.facts)
            claimed = [m.claim.lower() for m in found]
            found += [m for m in _name_marks(s, sources)
                      if not any(m.claim.lower() in c or c in m.claim.lower() for c in claimed)]
            found += _commitment_marks(s, sources)
        seen: set[tuple[str, str]] = set()
        for m in found:
            if (m.kind, m.claim) not in seen:
                seen.add((m.kind, m.claim))
                marks.append(m)
    return marks


__all__ = ["Passage", "Sources", "check_text", "vocabulary", "words_of", "MARKUP", "PLACEHOLDER"]
