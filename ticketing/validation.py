"""What any input must be for the database to store it and the rules to compute with it, stated
once for every entry: the HTML forms and URLs (forms_common, setup) and the JSON API (api/schemas)."""

import re
import unicodedata
from datetime import date
from decimal import Decimal

# Ids and versions are `integer` columns (see migrations/versions): PostgreSQL's largest integer.
# A bigger number cannot name a row, and SQLite cannot even take it as a parameter above 2**63 - 1.
MIN_ID = 1
MAX_INT = 2**31 - 1

# Dates people give (when it happened, promised dates, due dates, filter periods) lie within a
# lifetime of today. Years 1 and 9999 parse, but moving them to another timezone or adding a day
# overflows Python's datetime; well inside both ends, every calculation of the rules stays computable.
MIN_YEAR, MAX_YEAR = 1900, 2100

# Amounts are Numeric(12, 2) columns: ten digits before the point, two after (the database rounds
# to them, so 9999999999.995 would overflow). NaN and Infinity cannot be stored, and comparing a NaN
# raises instead of answering.
MAX_AMOUNT = Decimal("9999999999.99")

# C0 control characters and DEL: PostgreSQL refuses NUL, and the others are terminal escapes or
# invisible garbage in a record. Multi-line text keeps tab, line feed and carriage return.
CONTROL_CHARACTERS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"  # a regular-expression class, for schemas too
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
_CONTROL_OR_LINE_BREAK = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_DIGITS = re.compile(r"[0-9]{1,10}")


def has_unstorable_characters(value: str, *, multiline: bool = True) -> bool:
    """True when the text holds a control character (a line break too, if single-line) or is not
    valid Unicode (a lone surrogate cannot be encoded for either database)."""
    if (_CONTROL if multiline else _CONTROL_OR_LINE_BREAK).search(value):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def replace_control_characters(value: str) -> str:
    """Each control character (line breaks too) as U+FFFD, the replacement character."""
    return _CONTROL_OR_LINE_BREAK.sub("\ufffd", value)


def has_line_break(value: str) -> bool:
    return "\n" in value or "\r" in value


def storable_int(value: int) -> bool:
    return -MAX_INT - 1 <= value <= MAX_INT


def parse_id(text: str | None) -> int | None:
    """An id written in ASCII digits within the database's range, else None (never an exception)."""
    if text is None or not _DIGITS.fullmatch(text.strip()):
        return None
    value = int(text)
    return value if MIN_ID <= value <= MAX_INT else None


def date_in_range(value: date) -> bool:
    """Also takes a datetime (a subclass of date)."""
    return MIN_YEAR <= value.year <= MAX_YEAR


def storable_amount(value: Decimal) -> bool:
    """A finite amount that fits Numeric(12, 2)."""
    return value.is_finite() and abs(value) <= MAX_AMOUNT


PLAIN_NAME_LENGTH = 80
_NAME_PUNCTUATION = set(" '’-.·・．")


def is_plain_name(value: str) -> bool:
    """A name as people write theirs, in any script: letters and their marks, spaces, and ' ’ - . ·
    between them. No digits, @, slashes or brackets: a form anyone can send makes us e-mail this name
    to the address given, so it must not be able to carry a link or a message."""
    value = value.strip()
    return (
        0 < len(value) <= PLAIN_NAME_LENGTH
        and unicodedata.category(value[0])[0] == "L"
        and all(unicodedata.category(ch)[0] in "LM" or ch in _NAME_PUNCTUATION for ch in value)
    )
