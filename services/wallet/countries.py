"""The country table that ships with the project (`data/countries.json`)."""

from __future__ import annotations

import functools
from pathlib import Path

from google.protobuf import json_format
from gx.ledger.v1 import commands_pb2


@functools.cache
def shipped_countries(path: Path) -> tuple[commands_pb2.CountryShare, ...]:
    """The countries of the data file: the proto JSON of InitializeCountriesRequest without a request id.

    Read once per process: the file is large and never changes while the process runs.
    """
    request = json_format.Parse(path.read_text(encoding="utf-8"), commands_pb2.InitializeCountriesRequest())
    return tuple(request.countries)
