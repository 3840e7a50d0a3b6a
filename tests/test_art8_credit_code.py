"""Art. 8(1): the host unit is identified by its unified social credit code (GB 32100-2015).

The published codes below were checked by computing their check character (and, independently,
the GB 11714 check of their organisation-code part), not assumed valid.
"""

from __future__ import annotations

import pytest

from aggregates.credit_code import validate_credit_code, with_check_character
from aggregates.errors import InvalidInput

PUBLISHED = [
    "914403001922038216",  # 华为技术有限公司 (check character "6")
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91330100799655058B",  # 阿里巴巴（中国）有限公司
    "91340000711771143J",  # 科大讯飞股份有限公司
    "91110000802100433B",  # 北京百度网讯科技有限公司
]


@pytest.mark.parametrize("code", PUBLISHED)
def test_art8_published_codes_are_valid(code):
    assert validate_credit_code(code) == code


def test_art8_code_is_normalised():
    assert validate_credit_code("  91440300708461136t\n") == "91440300708461136T"
    assert validate_credit_code("9144 0300 7084 6113 6T") == "91440300708461136T"


def test_art8_wrong_check_character_names_the_expected_one():
    # Often quoted as a Changsha example, but its check character computes to "D", not "B".
    with pytest.raises(InvalidInput) as exc:
        validate_credit_code("91430100MA4L16JQ9B")
    assert exc.value.code == "invalid_credit_code"
    assert exc.value.field == "credit_code"
    assert "'D'" in exc.value.message and "'B'" in exc.value.message
    assert validate_credit_code("91430100MA4L16JQ9D") == "91430100MA4L16JQ9D"


def test_art8_check_value_31_becomes_zero():
    # Here the weighted sum is a multiple of 31: 31 - 0 = 31, which is written "0".
    assert with_check_character("91430100MA4L16JQF") == "91430100MA4L16JQF0"
    # Sum 1 → 31 - 1 = 30 → "Y", the last character of the alphabet.
    assert with_check_character("10000000000000000") == "10000000000000000Y"


@pytest.mark.parametrize("length", [0, 17, 19])
def test_art8_wrong_length_is_refused(length):
    with pytest.raises(InvalidInput, match="18 characters"):
        validate_credit_code("9" * length)


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_art8_forbidden_letters_are_refused(letter):
    code = "91440300708461136T"
    bad = code[:10] + letter + code[11:]
    with pytest.raises(InvalidInput) as exc:
        validate_credit_code(bad)
    assert "character 11" in exc.value.message and "never used" in exc.value.message


def test_art8_registration_authority_and_division_code():
    with pytest.raises(InvalidInput, match="registration authority"):
        validate_credit_code("01440300708461136T")
    with pytest.raises(InvalidInput, match="administrative division"):
        validate_credit_code("91A40300708461136T")
    # "Y" (其他) is a real registration authority code.
    assert validate_credit_code(with_check_character("Y1430100MA4L16JQ9"))[0] == "Y"


def test_art8_custom_field_name():
    with pytest.raises(InvalidInput) as exc:
        validate_credit_code("123", field="host_unit.credit_code")
    assert exc.value.field == "host_unit.credit_code"


def test_art8_with_check_character_generates_valid_codes():
    code = with_check_character("91430100MA4L16JQ9")
    assert code == "91430100MA4L16JQ9D"
    assert validate_credit_code(code) == code
    with pytest.raises(InvalidInput):
        with_check_character("9143010")
    with pytest.raises(InvalidInput):
        with_check_character("91430100MA4L16JQI")
