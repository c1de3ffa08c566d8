"""Writing a document's sections with the model, as steps (:mod:`docgen.llm.schedule`): document-level
sections (:mod:`.document`), per-row sections (:mod:`.rows`), json replies (:mod:`.jsonreply`) and their
progress events (:mod:`.progress`)."""

from docgen.sections.document import params_for, section_steps
from docgen.sections.jsonreply import json_problem, json_steps
from docgen.sections.progress import EventCallback, Progress
from docgen.sections.rows import row_section_steps

__all__ = ["params_for", "section_steps", "json_problem", "json_steps", "row_section_steps", "Progress",
           "EventCallback"]
