"""Choice lists for forms, built as WTForms SelectChoice (tuples are deprecated in 3.3)."""
from wtforms.fields.choices import SelectChoice


def options(enum_cls=None, blank=None, pairs=None):
    """A callable giving the choices, so labels are translated per request."""
    def build():
        items = [SelectChoice("", blank)] if blank is not None else []
        source = pairs() if callable(pairs) else (pairs or enum_cls.choices())
        return items + [SelectChoice(value, label) for value, label in source]
    return build
