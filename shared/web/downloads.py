"""Files to download from a view: an export (``shared.exports``) streamed from the database.

The rows are read in their own transaction while the response streams, so a 100k-row export
never sits in memory; whatever must be refused (404, 403) or recorded (an audit row) is done by
the view before it calls ``download``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from flask import Response, stream_with_context
from sqlalchemy.orm import Session

from ..db import unit_of_work
from ..exports import MEDIA_TYPES, export
from .http import runtime

#: Rows are fetched from the database this many at a time.
YIELD_PER = 1000


def download(
    name: str, file_format: str, columns: Sequence[str], rows_of: Callable[[Session], Iterable[Sequence[Any]]]
) -> Response:
    """A streamed ``name.csv``/``name.xlsx`` attachment of the rows ``rows_of(session)`` yields."""
    session_factory = runtime().session_factory

    def rows() -> Iterator[Sequence[Any]]:
        with unit_of_work(session_factory) as session:
            yield from rows_of(session)

    file = export(name, file_format, columns, rows())
    response = Response(stream_with_context(file.chunks), mimetype=file.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def download_responses(blp: Any, description: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document a view's 200 as a CSV or XLSX file (what ``download`` answers), the same for every export."""
    content = {
        MEDIA_TYPES["csv"].split(";")[0]: {"schema": {"type": "string"}},
        MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
    }

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        documented = blp.doc(responses={"200": {"description": description, "content": content}})(view)
        return blp.response(200, content_type="text/csv", description=description)(documented)  # type: ignore[no-any-return]

    return decorator
