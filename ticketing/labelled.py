"""Closed lists of values, each value with a translatable label (the base of every choice list)."""

from enum import StrEnum

# enum class -> {value: label}; each list registers its labels where it is defined
LABELS: dict[type, dict] = {}


class Labelled(StrEnum):
    """A closed list of values with a translatable label per value."""

    @property
    def label(self):
        return LABELS[type(self)][self.value]

    @classmethod
    def choices(cls):
        return [(m.value, m.label) for m in cls]


def label_for(enum_cls: type[Labelled], value: str | None):
    """The label of a stored value, tolerating empty values."""
    if not value:
        return ""
    return LABELS[enum_cls].get(value, value)
