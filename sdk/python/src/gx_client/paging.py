"""Page iterators: follow `next_page_token` so the app sees one stream of items."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from google.protobuf.message import Message


def iterate(call: Callable[[Any], Any], request: Message, items: str) -> Iterator[Any]:
    """Yield every element of the repeated field `items` across all pages of a List RPC.

    Args:
        call: The stub method, e.g. `client.wallet.ListTransactions`.
        request: The first page's request (`page_size` sets the page length); it is not changed.
        items: The response's repeated field, e.g. `"transactions"`.
    """
    page = type(request)()
    page.CopyFrom(request)
    while True:
        response = call(page)
        yield from getattr(response, items)
        token = response.next_page_token
        if not token:
            return
        page.page_token = token  # type: ignore[attr-defined, unused-ignore]
