"""Clean-up of model-written prose (``markdown``/``text`` sections) before it goes into a document.

Small local models (the default is a 135M model) often copy their data back, loop, run out of tokens
mid-sentence, repeat the section title or write a letter's greeting and signature around a body; a model
without a usable chat template (a base model) writes chat markup and goes on with the next turn itself. The
rules, applied in this order by :func:`clean_text` (all pure functions, no model needed):

0. **Chat markup and reasoning** (:func:`strip_markup`): a reasoning block (``<think>...</think>``,
   ``<thinking>``, ``<reasoning>``) is removed with its content; a closing ``</think>`` without an opening one
   ends reasoning that began in the prompt, so everything before it goes; an opening one that is never closed
   (the model ran out of tokens while thinking) takes the rest with it. The reply ends at the first
   end-of-turn token (``<|im_end|>``, ``<|eot_id|>``, ``<|end|>``, ``<|endoftext|>``, ``<|end_of_text|>``,
   ``</s>``, ``<end_of_turn>``, ``[/INST]``): what follows is a turn the model invented (``<|im_start|>user``),
   except that an empty reply followed by a new *assistant* turn keeps that turn. Every other special-token
   string left (``<|start_header_id|>``, ``<s>``, ``[INST]``, ``<<SYS>>``, any ``<|name|>``) is removed.
1. **Preamble** (:func:`strip_preamble`): chat-assistant chatter before the text ("Sure! Here is your
   summary:", "Certainly.", "Here's a short commentary:") and after it ("I hope this helps!", "Let me know if
   you'd like any changes.") is removed.
2. **Title line** (:func:`strip_title`): a first line that is a Markdown heading (``# ...``), starts with
   ``Title:``, or (bare, bold, or with a trailing colon) repeats the section title is removed.
3. **Greeting and closing** (:func:`strip_letter_lines`): leading lines that are a salutation
   (``Dear ...``, ``Hello ...``, ``Hi ...``, ``To whom it may concern``; at most 80 characters) are removed;
   a closing line in the last 6 lines (``Sincerely``, ``Best regards``, ``Kind regards``, ``Yours ...``,
   ``Warm regards``, ``Best wishes``, ``Thanks``/``Thank you``, standing alone or followed by a comma and a
   name, e.g. ``Sincerely, [Your Name]``) is removed with everything after it (the signature).
4. **Echo** (:func:`strip_echo`): a line of at least :data:`ECHO_MIN_WORDS` words is a copy of the prompt
   when at least :data:`ECHO_COVERAGE` of its words lie inside word :data:`ECHO_NGRAM`-grams that also occur
   in the prompt (case, Markdown markers and punctuation ignored). Such lines are removed, and so are short
   lines that only introduce them (a line ending in ``:`` directly before a removed line, e.g.
   ``Sales by region:``), and an opening line ending in ``:`` whose first :data:`ECHO_NGRAM` words come from
   the prompt (``In three sentences of your own words, I've summarised:``). Rewording the figures into
   sentences is not echo; copying whole data lines is.
5. **Repeats** (:func:`strip_repeats`): a paragraph (blank-line separated block) or a list item that repeats
   an earlier one (same normalized text, or difflib similarity >= :data:`REPEAT_SIMILARITY` for blocks of
   8 words or more) is removed; the first occurrence is kept.
6. **Unfinished ending** (:func:`cut_unfinished`, only when the generation stopped at ``max_tokens``,
   ``finish_reason == "length"``): text after the last sentence end (``.``, ``!``, ``?``, optionally followed
   by closing quotes/brackets/Markdown emphasis) in the last line is cut; a last line with no sentence end
   is dropped. A final ``digit.`` counts as unfinished (``Technology (31.`` is a number cut in half).
7. **Dangling lead-in**: a last line ending in ``:`` (it introduced something that was removed or never
   written) is removed.
8. **Too short** (:func:`too_short`): the pipeline treats a result with fewer words than the section's
   ``min_words`` (default :data:`MIN_WORDS`) as empty: it retries once with the next seed, and a section still
   empty then is a failure of that section (never a silent blank), unless the template asks for
   ``fallback = "facts"``.

Each step reports what it removed as a short note (e.g. ``"removed 3 repeated paragraphs"``), which the
pipeline records as section warnings. The result may be empty (everything was echo); the pipeline then
retries once with the next seed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

#: Fewer words than this (after cleanup) and a generated section counts as empty (rule 8); ``min_words`` per
#: section in the manifest overrides it. Two words: "Done." or a lone "Summary" is not a section.
MIN_WORDS = 2
ECHO_NGRAM = 4
ECHO_MIN_WORDS = 5
ECHO_COVERAGE = 0.8
REPEAT_SIMILARITY = 0.85

_WORD = re.compile(r"[\w$%.,'-]+")
_GREETING = re.compile(r"^[\"'*_ ]*(dear|hello|hi|hey|greetings|good (morning|afternoon|evening)|to whom it may concern)\b",
                       re.IGNORECASE)
_CLOSING = re.compile(
    r"^[\"'*_ ]*(sincerely|yours (sincerely|truly|faithfully)|(best|kind|warm|warmest|kindest)( regards| wishes)?"
    r"|regards|best wishes|many thanks|thanks|thank you|cheers|respectfully)[*_\"']*(?:[,.!]|$)",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"[.!?][\"')\]*_]*(?=\s|$)")


@dataclass(frozen=True)
class Cleaned:
    """Cleaned text and short notes on what was removed (empty when nothing was)."""

    text: str
    notes: tuple[str, ...] = ()


def _words(text: str) -> list[str]:
    """Lower-case words with Markdown markers and edge punctuation removed; numbers keep their inner , and ."""
    out = []
    for w in _WORD.findall(text.lower().replace("*", " ").replace("_", " ")):
        w = w.strip(".,'-")
        if w:
            out.append(w)
    return out


def _norm(text: str) -> str:
    return " ".join(_words(_BULLET.sub("", text)))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


_REASONING = r"think|thinking|reasoning|reflection"
_BLOCK = re.compile(rf"<(?P<tag>{_REASONING})>.*?</(?P=tag)>", re.IGNORECASE | re.DOTALL)
_LONE_CLOSE = re.compile(rf"^.*</(?:{_REASONING})>", re.IGNORECASE | re.DOTALL)
_LONE_OPEN = re.compile(rf"<(?:{_REASONING})>.*$", re.IGNORECASE | re.DOTALL)
_END_OF_TURN = re.compile(r"<\|(?:im_end|eot_id|end|endoftext|end_of_text|eom_id)\|>|</s>|<end_of_turn>|\[/INST\]",
                          re.IGNORECASE)
_TURN_START = re.compile(
    r"^\s*(?:<\|im_start\|>|<\|start_header_id\|>|<start_of_turn>|<\|(?:assistant|user|system)\|>)\s*"
    r"(?P<role>[a-z]+)?\s*(?:<\|end_header_id\|>)?", re.IGNORECASE)
_SPECIAL = re.compile(r"<\|[^|<>\s]{1,40}\|>|</?s>|\[/?INST\]|<</?SYS>>|<(?:start|end)_of_turn>", re.IGNORECASE)
_PREAMBLE = re.compile(
    r"^[\s*_\"']*(?:(?:sure|certainly|of course|absolutely|okay|ok|alright)(?: thing)?[.!,:][*_]*\s*)?"
    r"(?:(?:here(?:'s| is| are)|below is|i(?:'ve| have) (?:written|prepared|drafted))\b[^\n.!?:]{0,80}:[*_]*\s*)?",
    re.IGNORECASE)
_CHATTER = re.compile(
    r"^[\s*_\"']*(?:i hope (?:this|that|the above) (?:helps|is helpful|summary|meets|works)\b"
    r"|let me know if you(?:'d| would)? (?:like|want|need) (?:me to|any (?:changes|edits|adjustments)|more detail)"
    r"|(?:feel free to|please) (?:let me know|ask) if you (?:want|would like|need) (?:any )?(?:changes|edits|adjustments)"
    r")[^\n]*$", re.IGNORECASE | re.MULTILINE)


def strip_markup(text: str) -> tuple[str, list[str]]:
    """Remove chat-template markup and reasoning blocks, and end the reply at its end of turn (rule 0)."""
    notes = []
    out, n = _BLOCK.subn("", text)
    if _LONE_CLOSE.search(out):
        out, n2 = _LONE_CLOSE.sub("", out, count=1), 1
        n += n2
    out, n3 = _LONE_OPEN.subn("", out)
    if n + n3:
        notes.append("removed the model's reasoning")
    turn_notes = 0
    while True:
        start = _TURN_START.match(out)
        if start and (start.group("role") or "assistant").lower() == "assistant":
            out = out[start.end():]  # an assistant header before the reply
            turn_notes += 1
            continue
        end = _END_OF_TURN.search(out)
        if not end:
            break
        head, tail = out[:end.start()], out[end.end():]
        nxt = _TURN_START.match(tail)
        turn_notes += 1
        if not head.strip() and (nxt is None or (nxt.group("role") or "assistant").lower() == "assistant"):
            out = tail  # nothing before the end of turn: the reply is the assistant turn after it
            continue
        out = head
        break
    out, n4 = _SPECIAL.subn("", out)
    if turn_notes or n4:
        notes.append("removed chat-template markup")
    return out.strip(), notes


def strip_preamble(text: str) -> tuple[str, list[str]]:
    """Remove an assistant's preamble before the text and chatter after it (rule 1)."""
    notes = []
    m = _PREAMBLE.match(text)
    out = text
    if m and m.group(0).strip(" \n*_\"'"):
        out = text[m.end():]
        out = out[:1].upper() + out[1:]
        notes.append("removed a preamble")
    lines = out.rstrip().splitlines()
    cut = len(lines)
    while cut and (not lines[cut - 1].strip() or _CHATTER.match(lines[cut - 1])):
        cut -= 1
    if any(_CHATTER.match(x) for x in lines[cut:]):
        out = "\n".join(lines[:cut])
        notes.append("removed a closing remark to the user")
    return out.strip(), notes


def too_short(text: str, min_words: int = MIN_WORDS) -> bool:
    """True when ``text`` has fewer than ``min_words`` words (rule 8): the pipeline treats it as empty."""
    return len(_words(text)) < max(1, min_words)


def strip_title(text: str, title: str = "") -> tuple[str, list[str]]:
    """Remove a leading heading / ``Title:`` line / line repeating ``title`` (rule 2)."""
    lines = text.strip().splitlines()
    if not lines:
        return "", []
    first = lines[0].strip()
    bare = first.strip("#*_ :").strip()
    is_title = (
        first.startswith("#")
        or re.match(r"^[*_]*title\s*:", first, re.IGNORECASE) is not None
        or (title and _norm(bare) == _norm(title))
    )
    if not is_title:
        return text.strip(), []
    return "\n".join(lines[1:]).strip(), ["removed a title line"]


def strip_letter_lines(text: str) -> tuple[str, list[str]]:
    """Remove salutation lines at the start and a closing + signature at the end (rule 3)."""
    lines = text.strip().splitlines()
    notes = []
    removed = 0
    while lines and (not lines[0].strip() or (_GREETING.match(lines[0]) and len(lines[0].strip()) <= 80)):
        removed += bool(lines[0].strip())
        lines.pop(0)
    if removed:
        notes.append("removed a greeting line")
    start = max(0, len(lines) - 6)
    for i in range(start, len(lines)):
        line = lines[i].strip()
        if _CLOSING.match(line) and (len(line) <= 60 or not _SENTENCE_END.search(line[:-1])):
            lines = lines[:i]
            notes.append("removed a closing and signature")
            break
    return "\n".join(lines).strip(), notes


def strip_echo(text: str, source: str) -> tuple[str, list[str]]:
    """Remove lines copied from ``source`` (the prompt) by the n-gram coverage rule (rule 4)."""
    src = _words(source)
    grams = {tuple(src[i:i + ECHO_NGRAM]) for i in range(len(src) - ECHO_NGRAM + 1)}
    lines = text.splitlines()
    echo = [False] * len(lines)
    for i, line in enumerate(lines):
        words = _words(_BULLET.sub("", line))
        if len(words) < ECHO_MIN_WORDS:
            continue
        covered = [False] * len(words)
        for j in range(len(words) - ECHO_NGRAM + 1):
            if tuple(words[j:j + ECHO_NGRAM]) in grams:
                for k in range(j, j + ECHO_NGRAM):
                    covered[k] = True
        echo[i] = sum(covered) >= ECHO_COVERAGE * len(words)
    # a short lead-in line ("Sales by region:") directly before removed lines goes with them
    for i in range(len(lines) - 2, -1, -1):
        line = lines[i].strip()
        if not echo[i] and echo[i + 1] and line.endswith(":") and len(_words(line)) < ECHO_MIN_WORDS + 3:
            echo[i] = True
    # an opening lead-in that parrots the instruction ("In three sentences of your own words, I've ...:")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].strip().endswith(":"):
        words = _words(lines[first])
        echo[first] = echo[first] or (len(words) >= ECHO_NGRAM and tuple(words[:ECHO_NGRAM]) in grams)
    count = sum(echo)
    if not count:
        return text.strip(), []
    kept = [line for line, e in zip(lines, echo, strict=True) if not e]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip(), [f"removed {_plural(count, 'line')} copied from the data"]


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    if min(len(a.split()), len(b.split())) < 8:
        return False
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= REPEAT_SIMILARITY


def strip_repeats(text: str) -> tuple[str, list[str]]:
    """Remove repeated paragraphs and list items, keeping the first occurrence (rule 5)."""
    seen_blocks: list[str] = []
    seen_items: set[str] = set()
    blocks_out = []
    dropped_blocks = dropped_items = 0
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if lines and all(_BULLET.match(x) for x in lines if x.strip()):
            kept = []
            for line in lines:
                key = _norm(line)
                if key and key in seen_items:
                    dropped_items += 1
                    continue
                seen_items.add(key)
                kept.append(line)
            if kept:
                blocks_out.append("\n".join(kept))
            continue
        key = _norm(block)
        if key and any(_similar(key, s) for s in seen_blocks):
            dropped_blocks += 1
            continue
        seen_blocks.append(key)
        blocks_out.append(block)
    notes = []
    if dropped_blocks:
        notes.append(f"removed {_plural(dropped_blocks, 'repeated paragraph')}")
    if dropped_items:
        notes.append(f"removed {_plural(dropped_items, 'repeated list item')}")
    return "\n\n".join(blocks_out).strip(), notes


def cut_unfinished(text: str) -> tuple[str, list[str]]:
    """Cut a trailing unfinished sentence (rule 6; call only when the model stopped at max_tokens)."""
    text = text.rstrip()
    end = _SENTENCE_END.search(text[-4:])
    if not text or end and end.end() == len(text[-4:]) and not re.search(r"\d\.$", text):
        return text, []
    head, _, last = text.rpartition("\n")
    ends = [m for m in _SENTENCE_END.finditer(last) if not (m.end() == len(last) and re.search(r"\d\.$", last))]
    if ends and not _BULLET.fullmatch(last[: ends[-1].end()]):
        cut = (head + "\n" if head else "") + last[: ends[-1].end()]
    else:
        cut = head
    return cut.rstrip(), ["cut an unfinished sentence at the end"]


def clean_text(text: str, *, prompt: str = "", title: str = "", finish_reason: str = "stop") -> Cleaned:
    """Apply rules 0-7 (module docstring) to a section's generated ``text``.

    ``prompt``: everything the model read (the messages' text) for the echo rule; ``title``: the section's
    title; ``finish_reason``: the generation's (``"length"`` enables rule 6).
    """
    notes: list[str] = []
    out, n = strip_markup(text)
    notes += n
    out, n = strip_preamble(out)
    notes += n
    out, n = strip_title(out, title)
    notes += n
    out, n = strip_letter_lines(out)
    notes += n
    if prompt:
        out, n = strip_echo(out, prompt)
        notes += n
    out, n = strip_repeats(out)
    notes += n
    if finish_reason == "length":
        out, n = cut_unfinished(out)
        notes += n
        out, n = strip_letter_lines(out)  # a cut can leave a greeting alone
        notes += [x for x in n if x not in notes]
    head, _, last = out.rpartition("\n")
    if last.strip().endswith(":"):
        out = head.rstrip()
        notes.append("removed a dangling lead-in line")
    notes += [f"contains a placeholder to fill in before sending: {p}" for p in placeholders(out)]
    return Cleaned(out, tuple(notes))


_PLACEHOLDER = re.compile(r"\[(?=[^\]\n]*[A-Za-z])[^\]\n\[]{2,40}\](?!\()")


def placeholders(text: str) -> list[str]:
    """Template-style gaps a model leaves for a human, such as ``[Customer Name]`` or ``[Your Phone Number]``:
    square brackets around 2-40 characters with a letter, not a Markdown link (``[text](url)``). Each distinct
    one once, in order. They are never removed (the reviewer must fill them), only reported."""
    return list(dict.fromkeys(m.group(0) for m in _PLACEHOLDER.finditer(text)))
