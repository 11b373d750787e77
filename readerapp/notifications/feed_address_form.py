from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from ..feeds.scopes import FeedScope

FEED_CHOICES = [
    SelectChoice(FeedScope.ORGANISATION.value, "Everything the organisation's feed shows"),
    SelectChoice(FeedScope.STATION.value, "The station's broadcasts only (radio stations)"),
]


class SendFeedAddressForm(FlaskForm):
    # "user:<id>" for a partner's account, "contact:<organisation id>" for its contact address.
    recipient = SelectField("Send to", validators=[DataRequired()])
    feed = SelectField("Which feed", choices=FEED_CHOICES, validators=[DataRequired()])
