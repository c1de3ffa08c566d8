"""Reference documents: the organisation's own files (policies, FAQs, price lists) that sections are written
from, with citations.

- :mod:`.readers` - .docx, .pdf, .md, .txt, .html, .csv/.xlsx -> passages with heading path and location;
- :mod:`.passages` - blocks packed into passages (:class:`Passage`);
- :mod:`.index` - the SQLite FTS5 index with BM25 in the user cache directory (:class:`Index`), updated when a
  file changes (path + size + mtime + sha256);
- :mod:`.library` - which files a template's documents use (template, site, user, run);
- :mod:`.retrieve` - the retrieval stage: per section (and row) the passages that fit the prompt budget, and
  a statement of what was used (:func:`document_sources`);
- :mod:`.evidence` - the passage-evidence side of the claim check: policy terms in a sentence checked against
  the passages it cites (:func:`policy_marks`).
"""

from docgen.refs.evidence import policy_marks, policy_terms
from docgen.refs.index import FileInfo, Hit, Index, UpdateReport, default_index_path, fts_query
from docgen.refs.library import files_in, reference_files, site_references_dir, spec_for, user_references_dir
from docgen.refs.passages import Passage
from docgen.refs.readers import SUPPORTED, read_passages, supported
from docgen.refs.retrieve import RowSources, Selection, document_sources, prompt_sources, record_texts, section_query, with_sources

__all__ = ["Index", "Hit", "UpdateReport", "FileInfo", "default_index_path", "fts_query", "Passage", "read_passages",
           "supported", "SUPPORTED", "reference_files", "spec_for", "files_in", "user_references_dir",
           "site_references_dir", "Selection", "RowSources", "document_sources", "section_query", "with_sources", "prompt_sources",
           "record_texts", "policy_marks",
           "policy_terms"]
