"""The tools' argument checks and the sandbox's (which plays Square) accept the same emails, phones and
birthdays, so a call that passes validation is not refused by the server for the same field."""

from __future__ import annotations

import pytest

from square_customers_mcp.sandbox.customer_fields import check_birthday, check_email, check_phone
from square_customers_mcp.sandbox.errors import SquareError
from square_customers_mcp.tools.checks import fields_are_valid
from square_customers_mcp.tools.formats import is_email

EMAILS = ["ada@example.com", "a.b+c@mail.example.org", "ada@localhost", "ada", "@example.com", "a b@x.io",
          "ada@example.", "ada@@example.com", "ada@example.com\n"]  # fmt: skip
PHONES = ["+1-212-555-4240", "(206) 222-3333", "+44 20 7946 0000", "12345678", "123456789", "1" * 16, "1" * 17,
          " +12125554240", "+1+2125554240", "212.555.4240", "212-555-4240 ext 5", "+1 212 555 4240\n"]  # fmt: skip
BIRTHDAYS = ["1990-01-31", "02-29", "0000-02-29", "1990-13-01", "2001-02-29", "00-00", "12-32", "1990-1-1"]


def sandbox_accepts(check: object, value: str) -> bool:
    try:
        check(value, "field")
    except SquareError:
        return False
    return True


@pytest.mark.parametrize("email", EMAILS)
def test_email_rules_agree(email: str) -> None:
    assert is_email(email) == sandbox_accepts(check_email, email)


@pytest.mark.parametrize("phone", PHONES)
def test_phone_rules_agree(phone: str) -> None:
    assert (fields_are_valid({"phone_number": phone}) == []) == sandbox_accepts(check_phone, phone)


@pytest.mark.parametrize("birthday", BIRTHDAYS)
def test_birthday_rules_agree(birthday: str) -> None:
    pattern_ok = len(birthday) in (5, 10)  # the schema's pattern takes YYYY-MM-DD or MM-DD only
    tool_ok = pattern_ok and fields_are_valid({"birthday": birthday}) == []
    assert tool_ok == sandbox_accepts(check_birthday, birthday)
