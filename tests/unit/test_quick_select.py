"""The forms' select lists are drawn by QuickSelect: the same HTML as WTForms' own widget, for every
kind of option, so only the time it takes changes."""

from wtforms import Form, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select

from ticketing.desk.forms import QueueFilterForm
from ticketing.forms_common import QUICK_SELECT, QuickRendering

CHOICES = [
    SelectChoice("", "Any"),
    SelectChoice("a&b", 'Tom & "Jerry" <b>'),
    SelectChoice("x", "Chosen"),
    SelectChoice(7, "Seven"),
    SelectChoice(True, "Yes"),
    SelectChoice("plain", ""),
    SelectChoice("styled", "With attributes", render_kw={"data-tier": "vip", "disabled": True}),
    SelectChoice("中文", "退款"),
]


class Plain(Form):
    pick = SelectField("Pick", choices=CHOICES)
    many = SelectField("Many", choices=CHOICES, render_kw={"class": "wide"})


def test_the_same_html_as_wtforms_for_every_kind_of_option():
    for data in ("x", "a&b", "中文", "7", None):
        form = Plain(data={"pick": data, "many": data})
        for field in (form.pick, form.many):
            for extra in ({}, {"aria-describedby": "pick-error", "aria-invalid": "true"}, {"required": True}):
                assert QUICK_SELECT(field, **extra) == Select()(field, **extra)


def test_the_project_forms_draw_selects_with_it(app):
    with app.test_request_context("/queue?status=closed&priority=high"):
        form = QueueFilterForm(formdata=None, data={"status": "closed", "priority": "high"})
        form.assignee.choices = []
        page = form.status()
        assert page == Select()(form.status)
        assert '<option selected value="closed">' in page
        assert form.meta.render_field.__func__ is QuickRendering.render_field


def test_inputs_write_the_same_html_as_wtforms():
    from wtforms import BooleanField, IntegerField, RadioField, StringField
    from wtforms.widgets.core import html_params

    from ticketing.forms_common import PolicySubForm, quick_params

    attributes = {
        "class_": "wide",
        "data_tier": 'a "vip" & <b>',
        "aria_describedby": "x",
        "required": True,
        "off": False,
    }
    assert quick_params(**attributes) == html_params(**attributes)

    class Fields(Form):
        words = StringField("Words", render_kw={"placeholder": "Say <it> & more"})
        count = IntegerField("Count")
        agree = BooleanField("Agree")
        score = RadioField("Score", choices=[SelectChoice(str(n), str(n)) for n in range(3)])

    class Quick(PolicySubForm, Fields):
        pass

    for data in ({"words": 'Tom & "Jerry"', "count": 3, "agree": True, "score": "2"}, {}):
        plain, quick = Fields(data=data), Quick(data=data)
        for name in ("words", "count", "agree"):
            assert quick[name]() == plain[name]() and quick[name](**{"aria-invalid": "true"}) == plain[name](
                **{"aria-invalid": "true"}
            )
        assert [option() for option in quick.score] == [option() for option in plain.score]
        assert quick.words.meta.render_field.__func__ is QuickRendering.render_field
