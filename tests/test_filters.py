"""The formatting filters round like Excel (half away from zero) and print nothing for a missing value."""

from __future__ import annotations

import pytest

from docgen.jinja import make_environment


@pytest.mark.parametrize("tag, value, expected", [
    ("{{ v|number(1) }}", 4.85, "4.9"),            # Python's format gives 4.8 (binary 4.8499999...)
    ("{{ v|number(1) }}", -4.85, "-4.9"),
    ("{{ v|number(1) }}", 4.25, "4.3"),            # exact in binary: half up, not half to even
    ("{{ v|number(2) }}", 2.675, "2.68"),
    ("{{ v|number }}", 1234567.5, "1,234,568"),
    ("{{ v|number }}", 2.5, "3"),
    ("{{ v|number(2) }}", -0.001, "0.00"),          # no "-0.00"
    ("{{ v|money }}", 3.175, "$3.18"),
    ("{{ v|money }}", -1234.565, "-$1,234.57"),
    ("{{ v|money('€', 0) }}", -80, "-€80"),
    ("{{ v|percent }}", 0.12345, "12.3%"),
    ("{{ v|percent(2) }}", 0.12345, "12.35%"),
    ("{{ v|percent(0) }}", 0.125, "13%"),
    ("{{ v|number }}", 7, "7"),
    ("{{ v|number }}", "n/a", "n/a"),
])
def test_rounding_is_half_up_like_excel(tag, value, expected):
    assert make_environment().from_string(tag).render(v=value) == expected


@pytest.mark.parametrize("tag", ["{{ v }}", "{{ v|number }}", "{{ v|money }}", "{{ v|percent }}", "{{ v|date }}"])
def test_missing_value_prints_nothing(tag):
    assert make_environment().from_string(f"[{tag}]").render(v=None) == "[]"
    assert make_environment(autoescape=True).from_string(f"[{tag}]").render(v=None) == "[]"
