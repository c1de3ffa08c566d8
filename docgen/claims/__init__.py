"""The claim check: every sentence of generated prose against what the document was made from.

- :mod:`.figures`: figures (numbers, money, percentages, dates) the data does not hold (the first claim
  check, formerly ``docgen.grounding``);
- :mod:`.check`: :func:`check_text`, all kinds of problem per sentence as :class:`~docgen.model.Mark` s
  (unsupported, misattributed, derived, entity, name, echo, markup, placeholder, commitment), given
  :class:`Sources` (evidence, fact sheet, prompt, vocabulary, reference :class:`Passage` s, offers);
- :mod:`.sentences`: sentence spans of Markdown text (anchors, ``drop``).

Pure Python, no heavy imports.
"""

from docgen.claims.check import MARKUP, PLACEHOLDER, Passage, Sources, check_text, vocabulary, words_of
from docgen.claims.figures import Claim, Evidence, check_section, evidence_values, extract_claims, unsupported
from docgen.claims.sentences import Sentence, remove_spans, sentence_at, sentence_spans

__all__ = ["check_text", "Sources", "Passage", "vocabulary", "words_of", "MARKUP", "PLACEHOLDER", "Claim",
           "Evidence", "extract_claims", "evidence_values", "unsupported", "check_section", "Sentence",
           "sentence_spans", "sentence_at", "remove_spans"]
