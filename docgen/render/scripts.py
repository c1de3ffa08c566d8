"""Writing-system properties for text docgen puts into a document (sections and values alike).

Applied to every rendered part after docxtpl has filled it (:func:`apply_script_props`), and by the Markdown
writer to the paragraphs it builds. Idempotent; what the template author set explicitly is kept.

- **Right-to-left** (Hebrew, Arabic, Syriac, Thaana, N'Ko... U+0590-U+08FF and the Hebrew/Arabic
  presentation forms): a run containing such letters gets ``w:rtl``; a paragraph whose *first strong*
  character (Unicode bidi class L, R or AL) is right-to-left gets ``w:bidi`` (paragraph direction RTL, as
  Word does when one types such a paragraph). A paragraph that already has ``w:bidi`` turned on is left alone;
  one with ``w:bidi w:val="0"`` gets it turned on all the same, because LibreOffice writes that "off" on every
  paragraph it saves (so it says nothing about the author's wish), and a paragraph starting with right-to-left
  text shown left-to-right puts its punctuation and numbers in the wrong places.
- **East Asian** (CJK ideographs, kana, Hangul, CJK punctuation and full-width forms): the run gets
  ``w:rFonts w:hint="eastAsia"`` and, unless the run names an East-Asian font itself (``w:eastAsia`` or
  ``w:eastAsiaTheme``) or ``east_asia_font`` is None (the template's defaults name one), ``w:eastAsia`` =
  a font every Windows/Office install has for that script: Korean "Malgun Gothic", Japanese "MS Mincho",
  Chinese "SimSun". (LibreOffice substitutes installed CJK fonts through fontconfig.)
- Emoji, combining characters and other astral-plane text need nothing: they are kept as is (see
  :mod:`.sanitize` for the only characters removed).
"""

from __future__ import annotations

import re
import unicodedata

from docx.oxml.ns import qn
from lxml import etree

RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
CJK = re.compile("[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff00-\uffef"
                 "\U00020000-\U0003134f]")
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7ff]")
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
EAST_ASIA_FONTS = {"ko": "Malgun Gothic", "ja": "MS Mincho", "zh": "SimSun"}

# children of w:pPr / w:rPr in schema order (ECMA-376 CT_PPrBase / CT_RPr); Word rejects out-of-order ones
PPR_ORDER = [
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr", "suppressLineNumbers",
    "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap", "overflowPunct", "topLinePunct",
    "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing",
    "mirrorIndents", "suppressOverlap", "jc", "textDirection", "textAlignment", "textboxTightWrap",
    "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange",
]
RPR_ORDER = [
    "rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline", "shadow",
    "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing", "w", "kern",
    "position", "sz", "szCs", "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em",
    "lang", "eastAsianLayout", "specVanish", "oMath", "rPrChange",
]


def reorder(parent, order: list[str]) -> None:
    """Put the children of ``parent`` (a w:pPr or w:rPr) back into schema ``order`` (stable for unknowns)."""
    rank = {qn(f"w:{n}"): i for i, n in enumerate(order)}
    children = sorted(parent, key=lambda e: rank.get(e.tag, len(rank)))
    for c in children:
        parent.append(c)


def _child(parent, name: str, order: list[str]):
    el = parent.find(qn(f"w:{name}"))
    if el is None:
        el = etree.SubElement(parent, qn(f"w:{name}"))
        reorder(parent, order)
    return el


def _first(parent, name: str, index: int = 0):
    el = parent.find(qn(f"w:{name}"))
    if el is None:
        el = etree.Element(qn(f"w:{name}"))
        parent.insert(index, el)
    return el


def first_strong_is_rtl(text: str) -> bool:
    """True when the first character of bidi class L, R or AL in ``text`` is R or AL."""
    for c in text:
        kind = unicodedata.bidirectional(c)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def east_asia_font(text: str) -> str:
    """The default East-Asian font for the script of ``text`` (Hangul > kana > Han)."""
    if _HANGUL.search(text):
        return EAST_ASIA_FONTS["ko"]
    if _KANA.search(text):
        return EAST_ASIA_FONTS["ja"]
    return EAST_ASIA_FONTS["zh"]


def template_names_east_asia_font(document) -> bool:
    """True when the document's defaults (w:docDefaults or the Normal style) name an East-Asian font."""
    try:
        root = document.styles.element
    except Exception:  # pragma: no cover - no styles part
        return False
    for fonts in root.iter(qn("w:rFonts")):
        holder = fonts.getparent().getparent()  # w:rPrDefault, or the w:style of this w:rPr
        is_default = holder is not None and holder.tag == qn("w:rPrDefault")
        is_normal = (holder is not None and holder.tag == qn("w:style") and holder.get(qn("w:default")) == "1"
                     and holder.get(qn("w:type")) == "paragraph")
        if (is_default or is_normal) and fonts.get(qn("w:eastAsia")):
            return True
    return False


def _run_text(r) -> str:
    return "".join(t.text or "" for t in r.iter(qn("w:t")))


def apply_script_props(element, *, set_east_asia_font: bool = True) -> None:
    """Add RTL/East-Asian properties (module docstring) to every paragraph and run under ``element``."""
    for p in element.iter(qn("w:p")):
        runs = [r for r in p.iter(qn("w:r"))]
        texts = [_run_text(r) for r in runs]
        para_text = "".join(texts)
        if not (RTL.search(para_text) or CJK.search(para_text)):
            continue
        if RTL.search(para_text) and first_strong_is_rtl(para_text):
            ppr = _first(p, "pPr")
            bidi = ppr.find(qn("w:bidi"))
            if bidi is None:
                _child(ppr, "bidi", PPR_ORDER)
            elif bidi.get(qn("w:val")) in ("0", "false", "off"):
                del bidi.attrib[qn("w:val")]
        for r, text in zip(runs, texts):
            if not text:
                continue
            has_rtl, has_cjk = RTL.search(text), CJK.search(text)
            if not (has_rtl or has_cjk):
                continue
            rpr = _first(r, "rPr")
            if has_rtl and rpr.find(qn("w:rtl")) is None:
                _child(rpr, "rtl", RPR_ORDER)
            if has_cjk:
                fonts = _child(rpr, "rFonts", RPR_ORDER)
                fonts.set(qn("w:hint"), "eastAsia")
                if set_east_asia_font and not (fonts.get(qn("w:eastAsia")) or fonts.get(qn("w:eastAsiaTheme"))):
                    fonts.set(qn("w:eastAsia"), east_asia_font(text))
