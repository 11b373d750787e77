"""The faster attribute writer for form widgets writes exactly what WTForms' own does."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import Markup
from wtforms import Form, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import core

from readerapp.web.html_attributes import WTFORMS_HTML_PARAMS, html_params, install

CASES: list[dict[str, Any]] = [
    {},
    {"name": "title", "id": "materials-0-title", "type": "text", "value": ""},
    {"class_": "field wide", "for_": "x", "data_read_warning": True, "aria_invalid": "true"},
    {"checked": True, "readonly": False, "disabled": False, "required": True},
    {"value": 'He said "hi" & <left>', "title": "it's"},
    {"value": Markup('already "safe" <b>'), "placeholder": Markup("a &amp; b")},
    {"value": 0, "min": -1, "max": 10_000, "step": 0.5, "maxlength": 200},
    {"value": None, "aria_describedby": "status-error hint"},
    {"data_x_y_z": "1", "aria_label_by": "n", "name_": "trailing underscore"},
    {"<evil>": "key escaped", "onmouseover": "alert('x')"},
]


@pytest.mark.parametrize("params", CASES)
def test_attributes_match_wtforms(params: dict[str, Any]) -> None:
    assert html_params(**params) == WTFORMS_HTML_PARAMS(**params)
    assert isinstance(html_params(**params), Markup)


class _Form(Form):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    count = IntegerField("Count")
    kind = SelectField(
        "Kind", choices=[SelectChoice("poem", "Poem"), SelectChoice("story", 'A "story" & more')]
    )
    notes = TextAreaField("Notes")


def test_widgets_render_the_same_with_either_writer() -> None:
    def render() -> list[str]:
        form = _Form(data={"title": 'A "quoted" <title>', "count": 3, "kind": "story"})
        return [str(field(class_="x", aria_invalid="true")) for field in form]

    install()
    fast = render()
    core.html_params, core.Input.html_params = (
        WTFORMS_HTML_PARAMS,
        staticmethod(WTFORMS_HTML_PARAMS),
    )
    try:
        assert render() == fast
    finally:
        install()
