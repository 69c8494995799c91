"""What every CSV download shares: a byte-order mark for Excel and cells that never run as formulas."""

BOM = "\ufeff"  # without it Excel reads UTF-8 as the local code page and garbles Chinese
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value) -> str:
    """A cell a spreadsheet shows as text, never evaluates: a leading apostrophe disarms a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
