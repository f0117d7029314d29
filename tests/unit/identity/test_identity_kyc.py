"""KYC data rules."""

from __future__ import annotations

from datetime import date

from services.identity.kyc import (
    KycDocumentInput,
    KycInput,
    age_on,
    check_kyc,
    is_country_code,
    parse_birth_date,
)

TODAY = date(2026, 6, 15)
TYPES = frozenset({"KYC_DOCUMENT_TYPE_PASSPORT", "KYC_DOCUMENT_TYPE_SELFIE"})
HASH_A = "a" * 64
HASH_B = "0123456789abcdef" * 4


def _kyc(**kw: object) -> KycInput:
    base: dict[str, object] = {
        "first_name": "Ana",
        "last_name": "Perera",
        "date_of_birth": "1990-02-28",
        "nationality": "LK",
        "documents": (KycDocumentInput("KYC_DOCUMENT_TYPE_PASSPORT", HASH_A),),
    }
    base.update(kw)
    return KycInput(**base)  # type: ignore[arg-type]


def _fields(data: KycInput) -> list[str]:
    return [v.field for v in check_kyc(data, TODAY, TYPES)]


def test_valid_submission_has_no_problems() -> None:
    assert _fields(_kyc()) == []


def test_country_codes_are_assigned_iso_codes_only() -> None:
    assert is_country_code("LK") and is_country_code("US")
    assert not is_country_code("XX") and not is_country_code("lk") and not is_country_code("UK")
    assert _fields(_kyc(nationality="XX")) == ["nationality"]


def test_birth_dates_must_be_real_past_and_adult() -> None:
    assert parse_birth_date("2023-02-29", TODAY)[1] is not None  # not a leap year
    assert parse_birth_date("2027-01-01", TODAY)[1] == "must be in the past"
    assert "18" in (parse_birth_date("2010-01-01", TODAY)[1] or "")
    assert parse_birth_date("1899-12-31", TODAY)[1] is not None
    assert parse_birth_date("2008-06-15", TODAY) == (date(2008, 6, 15), None)  # 18 today
    assert parse_birth_date("2008-06-16", TODAY)[1] is not None  # 18 tomorrow


def test_age_counts_whole_years() -> None:
    assert age_on(date(2000, 6, 16), TODAY) == 25
    assert age_on(date(2000, 6, 15), TODAY) == 26


def test_document_hashes_must_be_lower_hex_sha256_and_distinct() -> None:
    docs = (
        KycDocumentInput("KYC_DOCUMENT_TYPE_PASSPORT", HASH_A.upper()),
        KycDocumentInput("KYC_DOCUMENT_TYPE_SELFIE", HASH_B),
        KycDocumentInput("KYC_DOCUMENT_TYPE_SELFIE", HASH_B),
        KycDocumentInput("KYC_DOCUMENT_TYPE_UNSPECIFIED", "abc"),
    )
    assert _fields(_kyc(documents=docs)) == [
        "documents[0].sha256",
        "documents[2].sha256",
        "documents[3].type",
        "documents[3].sha256",
    ]


def test_blank_names_and_no_documents_are_reported_together() -> None:
    assert _fields(_kyc(first_name="  ", last_name="", documents=())) == [
        "first_name",
        "last_name",
        "documents",
    ]
