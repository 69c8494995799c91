"""What was typed in the search box, read as a reference, a phone, an e-mail or words."""

import re
from dataclasses import dataclass, field

from ticketing import validation
from ticketing.cases.search.text import fold
from ticketing.cases.services.intake import phone_digits

MAX_LENGTH = 200
# "C-2026-000011", "c2026-11", "2026-11": a year and a number name one case.
_REFERENCE = re.compile(r"^(?:c-?)?(20\d{2})-0*(\d{1,6})$")
_PHONE = re.compile(r"^[\d\s+().\-/]+$")


@dataclass(frozen=True)
class Term:
    """One thing every match must contain: any of `alternatives` (folded text)."""

    alternatives: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    typed: str
    terms: list[Term] = field(default_factory=list)
    reference: str | None = None  # the exact reference it names, if it names one
    email: str | None = None  # an exact e-mail address
    phone: str | None = None  # an exact phone, as phone_digits stores it

    @property
    def empty(self) -> bool:
        return not (self.terms or self.reference or self.email or self.phone)


def parse(typed: str | None) -> Query:
    """Words must all appear (anywhere, as parts of words too: "brow" finds Brown, "退款" finds
    "申请退款三次"); one character alone is too little to search for and is left out.

    A phone typed with spaces, dashes, brackets or +86 is searched as its digits, as dialled at
    home and as typed; a reference may be typed in full, in part ("000011"), or as year-number
    ("2026-11")."""
    # Nothing typed can reach the database as syntax or as bytes it refuses: control characters
    # (NUL ends an FTS5 string) and lone surrogates become U+FFFD, which matches nothing.
    typed = validation.replace_control_characters((typed or "").strip()[:MAX_LENGTH])
    typed = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in typed)
    folded = fold(typed)
    reference = email = phone = None
    alternatives = set()
    if match := _REFERENCE.match(folded):
        reference = f"C-{match[1]}-{int(match[2]):06d}"
        # The exact case first; then any year's case of that number (documents hold the number).
        alternatives.add(reference.rsplit("-", 1)[-1])
        if folded.startswith("c"):
            return Query(typed, [Term(tuple(alternatives))], reference=reference)
    if _PHONE.match(folded) and len(re.sub(r"\D", "", folded)) >= 3:
        # "2026-1234" may be a reference or the end of a phone: both are looked for.
        digits = re.sub(r"\D", "", folded)
        home = (phone_digits(folded) or "").lstrip("0")
        alternatives |= {digits, home} | ({folded} if "-" in folded and " " not in folded else set())
        terms = [Term(tuple(sorted(a for a in alternatives if len(a) >= 3)))]
        phone = phone_digits(folded) if len(digits) >= 5 else None
        return Query(typed, terms, reference=reference, phone=phone)
    words = [word for word in folded.split() if len(word) >= 2]
    if len(words) == 1 and "@" in words[0]:
        email = words[0]
    return Query(typed, [Term((word,)) for word in dict.fromkeys(words)], reference=reference, email=email)
