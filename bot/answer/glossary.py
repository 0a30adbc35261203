"""Plain meanings of the legal words that worry artists, attached to answers whose excerpts use them."""

from __future__ import annotations

import re
from collections.abc import Iterable

GLOSSARY: dict[str, str] = {
    "perpetual": "Perpetual means it never ends on its own, even if you stop using the service.",
    "irrevocable": "Irrevocable means you cannot take it back once given.",
    "sublicensable": "Sublicensable means the platform may pass the rights you give it on to other companies.",
    "royalty-free": "Royalty-free means the platform owes you no payment for using what the licence covers.",
    "worldwide": "Worldwide means the rights apply in every country, not just where you live.",
    "derivative works": "Derivative works are new works based on yours, such as remixes, edits or adaptations.",
    "indemnify": "To indemnify is to promise to pay the platform's costs if a claim against it arises from "
    "what you did or uploaded.",
    "arbitration": "Arbitration means disputes go to a private arbitrator instead of a public court.",
    "class action waiver": "A class action waiver means you agree not to join with other users in one "
    "lawsuit; each person must bring a claim alone.",
    "non-exclusive": "Non-exclusive means you stay free to give the same rights to others too.",
    "governing law": "Governing law is the country's or state's law used to read the contract.",
}

# How each term is written in terms ("sub-licensable", "indemnification", "class actions").
_FORMS: dict[str, str] = {
    "perpetual": r"perpetual(?:ly)?",
    "irrevocable": r"irrevocabl[ey]",
    "sublicensable": r"sub-?licen[cs]e?able|sub-?licen[cs]eable|(?:right|rights) to sub-?licen[cs]e",
    "royalty-free": r"royalty[- ]free",
    "worldwide": r"world-?wide",
    "derivative works": r"derivative works?",
    "indemnify": r"indemnif(?:y|ies|ied|ication)",
    "arbitration": r"arbitrat(?:ion|or|e)",
    "class action waiver": r"class[- ]action|class or representative|class proceeding|class-wide",
    "non-exclusive": r"non-?exclusive",
    "governing law": r"governing law|governed by the laws?",
}
_PATTERNS = {term: re.compile(rf"\b(?:{form})\b", re.I) for term, form in _FORMS.items()}


def glossary_for(texts: Iterable[str]) -> list[tuple[str, str]]:
    """(term, plain meaning) for each glossary word the texts use, in glossary order."""
    joined = "\n".join(texts)
    return [(term, GLOSSARY[term]) for term, pattern in _PATTERNS.items() if pattern.search(joined)]
