"""Field limits of referrals, read by the form, the API schema and operations."""

from __future__ import annotations

from ..limits import length_of
from .models import Referral

REFERRER_NAME = length_of(Referral.referrer_name)
REFERRER_EMAIL = length_of(Referral.referrer_email)
STATUS_REASON = length_of(Referral.ended_reason)
