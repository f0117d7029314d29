"""KYC data rules: dates of birth, ISO 3166 country codes and document hashes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from services.identity.passwords import RuleViolation

# ISO 3166-1 alpha-2, every officially assigned code (from Debian's iso-codes 3166-1.json).
# Kept here rather than loaded from a data file because the set changes once in years and
# a service must not depend on an OS package at run time.
ISO_3166_ALPHA2 = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV
    BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES
    ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE
    IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY
    MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU
    NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM
    SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE
    VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()
)

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# Nobody alive was born before this; an earlier date is a typo, not a person.
_EARLIEST_BIRTH = date(1900, 1, 1)
# KYC is for adults: the wallet holds value and takes on loans.
MIN_AGE_YEARS = 18


@dataclass(frozen=True)
class KycDocumentInput:
    """One submitted document reference.

    Attributes:
        doc_type: The KycDocumentType name (for example `KYC_DOCUMENT_TYPE_PASSPORT`).
        sha256: The file's SHA-256, hex.
    """

    doc_type: str
    sha256: str


@dataclass(frozen=True)
class KycInput:
    """A KYC submission as the use case receives it.

    Attributes:
        first_name: Given name.
        last_name: Family name.
        date_of_birth: `YYYY-MM-DD`.
        nationality: ISO 3166-1 alpha-2.
        documents: The document references.
    """

    first_name: str
    last_name: str
    date_of_birth: str
    nationality: str
    documents: tuple[KycDocumentInput, ...]


def is_country_code(code: str) -> bool:
    """Says whether a string is an assigned ISO 3166-1 alpha-2 code (upper case)."""
    return code in ISO_3166_ALPHA2


def age_on(birth: date, today: date) -> int:
    """Whole years between a birth date and a day."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def parse_birth_date(value: str, today: date) -> tuple[date | None, str | None]:
    """Parses and checks a date of birth.

    Args:
        value: `YYYY-MM-DD`.
        today: The current date (passed in so the rule is testable).

    Returns:
        The date and None, or None and what is wrong.
    """
    try:
        birth = date.fromisoformat(value)
    except ValueError:
        return None, "must be a real date in the form YYYY-MM-DD"
    if len(value) != 10:
        return None, "must be a real date in the form YYYY-MM-DD"
    if birth < _EARLIEST_BIRTH:
        return None, f"must not be before {_EARLIEST_BIRTH.isoformat()}"
    if birth >= today:
        return None, "must be in the past"
    if age_on(birth, today) < MIN_AGE_YEARS:
        return None, f"you must be at least {MIN_AGE_YEARS} years old"
    return birth, None


def check_kyc(data: KycInput, today: date, known_doc_types: frozenset[str]) -> list[RuleViolation]:
    """Checks a KYC submission beyond what the proto field rules already enforce.

    Args:
        data: The submission.
        today: The current date.
        known_doc_types: Accepted document type names (the enum, minus UNSPECIFIED).

    Returns:
        Every problem found, each against its request field.
    """
    problems: list[RuleViolation] = []
    if not data.first_name.strip():
        problems.append(RuleViolation("first_name", "must not be blank"))
    if not data.last_name.strip():
        problems.append(RuleViolation("last_name", "must not be blank"))
    _, why = parse_birth_date(data.date_of_birth, today)
    if why:
        problems.append(RuleViolation("date_of_birth", why))
    if not is_country_code(data.nationality):
        problems.append(
            RuleViolation("nationality", "must be an ISO 3166-1 alpha-2 country code, upper case")
        )
    if not data.documents:
        problems.append(RuleViolation("documents", "must list at least one document"))
    seen: set[str] = set()
    for i, doc in enumerate(data.documents):
        if doc.doc_type not in known_doc_types:
            problems.append(RuleViolation(f"documents[{i}].type", "must be a known document type"))
        if not _SHA256_HEX.fullmatch(doc.sha256):
            problems.append(
                RuleViolation(f"documents[{i}].sha256", "must be 64 lower-case hex characters (SHA-256)")
            )
        elif doc.sha256 in seen:
            problems.append(RuleViolation(f"documents[{i}].sha256", "is listed twice"))
        seen.add(doc.sha256)
    return problems
