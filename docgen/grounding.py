"""The figure check under its first name: it now lives in :mod:`docgen.claims.figures` (the claim check's
figures part); this module keeps the old import path working with the same names and behaviour."""

from docgen.claims.figures import (CELL_DENSITY_LIMIT, Claim, Evidence, check_section, evidence_values,
                                   extract_claims, message, unsupported)

__all__ = ["Claim", "Evidence", "extract_claims", "evidence_values", "unsupported", "check_section", "message",
           "CELL_DENSITY_LIMIT"]
