"""The one money formatter: fen in, yuan as the merchant reads it, no float rounding."""

import pytest

from fahuo.domain.money import price, yuan, yuan_text


@pytest.mark.parametrize("fen, shown", [(0, "0.00"), (None, "0.00"), (5, "0.05"),
                                        (1250, "12.50"), (100, "1.00"), (-150, "-1.50"),
                                        (123456789012, "1234567890.12")])
def test_yuan_has_two_decimals(fen, shown):
    assert yuan(fen) == shown


@pytest.mark.parametrize("fen, shown", [(None, ""), (0, "0"), (1200, "12"), (1250, "12.50"),
                                        (1205, "12.05")])
def test_a_form_field_drops_a_whole_amounts_cents(fen, shown):
    assert yuan(fen, trim=True) == shown


def test_in_a_sentence_and_in_a_table():
    assert yuan_text(9990) == "99.90元"
    assert price(9990) == "¥99.90"
    assert price(None) == "¥0.00"
