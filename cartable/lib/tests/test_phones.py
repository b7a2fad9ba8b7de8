import pytest

from cartable.lib.phones import is_mobile, to_e164


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("06 99 00 11 22", "+33699001122"),
        ("06.99.00.11.22", "+33699001122"),
        ("+33699001122", "+33699001122"),
        ("+33 (0)6 99 00 11 22", "+33699001122"),
        ("0033699001122", "+33699001122"),
        ("33699001122", "+33699001122"),
        ("699001122", "+33699001122"),
        ("0199000000", "+33199000000"),
        ("+262 692 12 34 56", "+262692123456"),
        ("", ""),
        (None, ""),
        ("inconnu", ""),
        ("12", ""),
    ],
)
def test_to_e164(raw, expected):
    assert to_e164(raw) == expected


def test_is_mobile():
    assert is_mobile("+33699001122")
    assert is_mobile("+33799001122")
    assert not is_mobile("+33199000000")
    assert not is_mobile("")
