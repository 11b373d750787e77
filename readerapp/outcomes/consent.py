"""The wording a participant is shown for each purpose they may consent to. The version of the
wording is kept with each consent given, so a changed wording is never taken as agreed to: when
the text changes, give it a new version."""

from __future__ import annotations

from dataclasses import dataclass

from .models import CONSENT_PURPOSES


@dataclass(frozen=True)
class ConsentWording:
    purpose: str
    label: str
    version: str
    text: str


WORDINGS: dict[str, ConsentWording] = {
    wording.purpose: wording
    for wording in (
        ConsentWording(
            "evaluation",
            "Taking part in evaluation",
            "1",
            "I agree that my answers to wellbeing questions are kept under my code, never my "
            "name, and used to report how the group helps people. I can stop at any time.",
        ),
        ConsentWording(
            "quotes",
            "Quotes in reports",
            "1",
            "I agree that things I say about the group may be quoted in reports, without my "
            "name. I can stop at any time.",
        ),
        ConsentWording(
            "radio_voice",
            "Voice in a radio recording",
            "1",
            "I agree that my voice may be heard in a recording of the group broadcast on "
            "prison radio. I can stop at any time, for recordings not yet broadcast.",
        ),
        ConsentWording(
            "referrer_updates",
            "Updates to the referrer",
            "1",
            "I agree that the person who referred me is told, by email and under my code, when "
            "I first come, when I come regularly and when I stop. I can stop this at any time.",
        ),
        ConsentWording(
            "referrer_name",
            "First name in updates to the referrer",
            "1",
            "I agree that those updates to the person who referred me also give my first name. "
            "I can stop this at any time.",
        ),
    )
}
assert set(WORDINGS) == set(CONSENT_PURPOSES), "word every purpose"
