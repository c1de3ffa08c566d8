"""Fact sheets and insights: what a document's prose may say, computed from its aggregates before the model
writes (:mod:`.sheet`). Pure Python, no heavy imports."""

from docgen.facts.sheet import FORMS, Fact, FactSheet, build_fact_sheet, fmt, is_money, noun_of, sheet_text

__all__ = ["Fact", "FactSheet", "build_fact_sheet", "sheet_text", "FORMS", "fmt", "is_money", "noun_of"]
