import datetime

import pytest
import time_machine
from django.utils import timezone

from cartable.accounts import tokens
from cartable.accounts.models import Confirmation

Kind = Confirmation.Kind


def test_link_is_stored_as_digest_and_single_use(parent):
    token = tokens.issue_link(parent, Kind.PASSWORD_RESET)
    row = Confirmation.objects.get(user=parent)
    assert token not in row.digest and len(token) >= 43
    assert tokens.redeem_link(Kind.PASSWORD_RESET, token).user == parent
    with pytest.raises(tokens.TokenUsed):
        tokens.redeem_link(Kind.PASSWORD_RESET, token)


def test_link_expiry_both_sides(parent):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = tokens.issue_link(parent, Kind.PASSWORD_RESET)
    with time_machine.travel(start + datetime.timedelta(minutes=59, seconds=59), tick=False):
        assert tokens.peek_link(Kind.PASSWORD_RESET, token)
    with time_machine.travel(start + datetime.timedelta(hours=1), tick=False), pytest.raises(tokens.TokenExpired):
        tokens.redeem_link(Kind.PASSWORD_RESET, token)


def test_tampered_or_other_kind_link_is_invalid(parent):
    token = tokens.issue_link(parent, Kind.PASSWORD_RESET)
    with pytest.raises(tokens.TokenInvalid):
        tokens.redeem_link(Kind.PASSWORD_RESET, token[:-1] + ("A" if token[-1] != "A" else "B"))
    with pytest.raises(tokens.TokenInvalid):
        tokens.redeem_link(Kind.EMAIL_CHANGE, token)


def test_new_link_voids_the_previous_one(parent):
    first = tokens.issue_link(parent, Kind.PASSWORD_RESET)
    second = tokens.issue_link(parent, Kind.PASSWORD_RESET)
    with pytest.raises(tokens.TokenUsed):
        tokens.redeem_link(Kind.PASSWORD_RESET, first)
    assert tokens.redeem_link(Kind.PASSWORD_RESET, second)


def test_code_three_tries_then_void(parent, teacher):
    code = tokens.issue_code(parent, Kind.PASSWORD_RESET_SMS)
    assert len(code) == 6 and code.isdigit()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    with pytest.raises(tokens.TokenInvalid):
        tokens.redeem_code(parent, Kind.PASSWORD_RESET_SMS, wrong)
    with pytest.raises(tokens.TokenInvalid):
        tokens.redeem_code(parent, Kind.PASSWORD_RESET_SMS, wrong)
    with pytest.raises(tokens.TooManyAttempts):
        tokens.redeem_code(parent, Kind.PASSWORD_RESET_SMS, wrong)
    with pytest.raises(tokens.TooManyAttempts):
        tokens.redeem_code(parent, Kind.PASSWORD_RESET_SMS, code)


def test_code_is_bound_to_its_user_and_expires(parent, teacher):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        code = tokens.issue_code(parent, Kind.PASSWORD_RESET_SMS)
    with pytest.raises(tokens.TokenInvalid):
        tokens.redeem_code(teacher, Kind.PASSWORD_RESET_SMS, code)
    with time_machine.travel(start + datetime.timedelta(minutes=30), tick=False), pytest.raises(tokens.TokenExpired):
        tokens.redeem_code(parent, Kind.PASSWORD_RESET_SMS, code)
    with time_machine.travel(start + datetime.timedelta(minutes=29), tick=False):
        assert tokens.redeem_code(parent, Kind.PASSWORD_RESET_SMS, f" {code[:3]} {code[3:]} ")
