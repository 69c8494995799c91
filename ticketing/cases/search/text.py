"""How text is folded for searching, the same way for documents and for what is typed."""

import re
import unicodedata

# Scripts written without spaces between words: every pair of neighbouring characters is a term.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
_WORD = re.compile(r"[^\W_]+")


def fold(text: str | None) -> str:
    """Full-width forms made plain (ＡＢＣ１２３ → abc123) and case folded."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def short_terms(folded: str) -> str:
    """The two-character terms of folded text, space-delimited (" 退款 款太 li "): a trigram
    index cannot find two characters, so they are kept as terms of their own — each pair of
    neighbouring Chinese (or Japanese, Korean) characters, and each two-letter word ("li", "wu")."""
    terms = set()
    for run in _UNSPACED.findall(folded):
        terms.update(run[i : i + 2] for i in range(len(run) - 1))
    terms.update(word for word in _WORD.findall(folded) if len(word) == 2)
    return f" {' '.join(sorted(terms))} " if terms else ""
