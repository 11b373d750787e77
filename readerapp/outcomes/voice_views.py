"""The people heard in a recorded radio episode, listed by code with their consent to their
voice in a radio recording (managers and admins: readerapp.access decides)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import TextAreaField

from ..access import STAFF, may_list_episode_voices, require, roles_required
from ..extensions import db
from ..radio.models import Episode
from ..web.forms import CleanForm
from ..web.saving import save_form
from .voices import (
    MAX_VOICES,
    WITHDRAWN_WARNING,
    episode_voices,
    set_episode_voices,
    split_codes,
    withdrawn_voices,
)

bp = Blueprint("episode_voices", __name__, template_folder="templates")


class VoicesForm(CleanForm):
    codes = TextAreaField("Participant codes of the people heard")


def _page(episode: Episode, form: VoicesForm, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "outcomes/episode_voices.html",
        episode=episode,
        form=form,
        voices=episode_voices(episode.id),
        withdrawn=set(withdrawn_voices([episode.id]).get(episode.id, [])),
        warning=WITHDRAWN_WARNING,
        max_voices=MAX_VOICES,
    ), status


@bp.get("/radio/episodes/<int:episode_id>/voices")
@roles_required(STAFF)
def voices(episode_id: int) -> ResponseReturnValue:
    require(may_list_episode_voices(current_user))
    episode = db.get_or_404(Episode, episode_id)
    form = VoicesForm(formdata=None)
    form.codes.data = "\n".join(v.participant.code for v in episode_voices(episode.id))
    return _page(episode, form)


@bp.post("/radio/episodes/<int:episode_id>/voices")
@roles_required(STAFF)
def voices_save(episode_id: int) -> ResponseReturnValue:
    require(may_list_episode_voices(current_user))
    episode = db.get_or_404(Episode, episode_id)
    form = VoicesForm()
    if not form.validate():
        return _page(episode, form, 400)
    codes = split_codes(form.codes.data or "")
    saved = save_form(
        form, lambda: set_episode_voices(episode, codes, current_user.id), field="codes"
    )
    if not saved:
        return _page(episode, form, saved.status)
    flash(f"Episode {episode.number}: {len(saved.value)} voices listed.", "success")
    return redirect(url_for("episode_voices.voices", episode_id=episode.id))
