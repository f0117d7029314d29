"""The shipped country list parses as an InitializeCountries request and the chaincode accepts it."""

from __future__ import annotations

import re
from pathlib import Path

from google.protobuf import json_format
from gx.ledger.v1 import commands_pb2 as cmd
from gx.ledger.v1 import queries_pb2 as qry

from tests.chaincode.conftest import rid
from tests.chaincode.fake_ledger import FakeLedger

COUNTRIES = Path(__file__).resolve().parents[2] / "data" / "countries.json"


def _load() -> cmd.InitializeCountriesRequest:
    return json_format.Parse(COUNTRIES.read_text(encoding="utf-8"), cmd.InitializeCountriesRequest())


def test_country_file_is_a_complete_share_table() -> None:
    countries = _load().countries
    codes = [c.country_code for c in countries]
    assert 190 <= len(codes) <= 250
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"[A-Z]{2}", c) for c in codes)
    assert all(c.name and c.share_bps >= 1 for c in countries)
    assert sum(c.share_bps for c in countries) == 10_000
    by_code = {c.country_code: c.share_bps for c in countries}
    assert by_code["IN"] > by_code["US"] > by_code["LK"] > by_code["MV"]


async def test_chaincode_accepts_the_country_file(ledger: FakeLedger) -> None:
    request = _load()
    request.request_id = rid()
    out = await ledger.invoke("InitializeCountries", request)
    result = out.result(cmd.InitializeCountriesResult)
    assert (result.country_count, result.total_share_bps) == (len(request.countries), 10_000)
    assert len(out.domain_events()) == len(request.countries)
    listed = (await ledger.invoke("ListCountries", qry.ListCountriesRequest())).result(
        qry.ListCountriesResult
    )
    assert [c.country_code for c in listed.countries] == sorted(c.country_code for c in request.countries)
