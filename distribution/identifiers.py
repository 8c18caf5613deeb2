"""Industry identifiers, checked with python-stdnum.

Each `normalize_*` returns the compact canonical form or raises Django's ValidationError with a
message that says what is wrong, so both the API (400 naming the field) and the admin use them.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django_countries import countries
from stdnum import ean, isni, isrc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

WORLDWIDE = "WW"


def normalize_upc(value: str) -> str:
    """UPC-A (12 digits) or EAN-13 with a valid check digit."""
    compact = ean.compact(value)
    if not compact.isdigit():
        raise ValidationError("A UPC/EAN contains digits only.", code="invalid_upc")
    if len(compact) not in (12, 13):
        raise ValidationError(
            f"A UPC has 12 digits and an EAN 13; got {len(compact)}.", code="invalid_upc"
        )
    try:
        return ean.validate(compact)
    except InvalidChecksum:
        raise ValidationError(
            f"Invalid UPC/EAN check digit: expected {ean.calc_check_digit(compact[:-1])}.",
            code="invalid_upc",
        ) from None


def normalize_isrc(value: str) -> str:
    """ISRC: CC-XXX-YY-NNNNN, country code known, 12 characters."""
    compact = isrc.compact(value)
    try:
        return isrc.validate(compact)
    except InvalidLength:
        raise ValidationError(
            "An ISRC has 12 characters (e.g. USRC17607839).", code="invalid_isrc"
        ) from None
    except InvalidComponent:
        raise ValidationError(
            f"Unknown ISRC country code '{compact[:2]}'.", code="invalid_isrc"
        ) from None
    except InvalidFormat:
        raise ValidationError(
            "An ISRC is 2 letters, 3 letters or digits, then 7 digits.", code="invalid_isrc"
        ) from None


def normalize_isni(value: str) -> str:
    """ISNI: 16 characters with a mod 11-2 check character."""
    compact = isni.compact(value)
    try:
        return isni.validate(compact)
    except InvalidLength:
        raise ValidationError("An ISNI has 16 characters.", code="invalid_isni") from None
    except InvalidChecksum:
        raise ValidationError("Invalid ISNI check character.", code="invalid_isni") from None
    except InvalidFormat:
        raise ValidationError(
            "An ISNI is 15 digits and a digit or X.", code="invalid_isni"
        ) from None


def validate_upc(value: str) -> None:
    normalize_upc(value)


def validate_isrc(value: str) -> None:
    normalize_isrc(value)


def validate_isni(value: str) -> None:
    normalize_isni(value)


def normalize_territories(codes: list[str]) -> list[str]:
    """ISO 3166-1 alpha-2 country codes, or WW for the world; upper-cased, de-duplicated."""
    if not isinstance(codes, list):
        raise ValidationError("Territories are a list of ISO country codes.", code="invalid")
    result: list[str] = []
    unknown: list[str] = []
    for code in codes:
        upper = str(code).strip().upper()
        if upper != WORLDWIDE and upper not in countries:
            unknown.append(str(code))
        elif upper not in result:
            result.append(upper)
    if unknown:
        raise ValidationError(
            f"Unknown territory codes: {', '.join(unknown)} (use ISO 3166-1 alpha-2, or WW).",
            code="invalid_territory",
        )
    return result


def validate_territories(codes: list[str]) -> None:
    normalize_territories(codes)
