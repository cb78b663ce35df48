"""Lists: the ``?page=&per_page=`` arguments, the ``{items, page, per_page, total}`` envelope, one query."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ..fields import QuerySchema

MAX_PER_PAGE = 200


class PageArgs(QuerySchema):
    """``?page=1&per_page=50`` (per_page capped at 200); a query string like any other."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=1_000_000))
    per_page = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_PER_PAGE))


def page_schema(item_schema_cls: type[ma.Schema], name: str | None = None) -> type[ma.Schema]:
    """A list envelope schema ``{items, page, per_page, total}`` for ``item_schema_cls``."""
    attrs = {
        "items": ma.fields.List(ma.fields.Nested(item_schema_cls)),
        "page": ma.fields.Integer(),
        "per_page": ma.fields.Integer(),
        "total": ma.fields.Integer(),
    }
    return type(
        name or f"{item_schema_cls.__name__.removesuffix('Schema')}PageSchema",
        (ma.Schema,),
        attrs,
    )


def count_rows(session: Session, stmt: Select[Any]) -> int:
    """How many rows ``stmt`` selects (its ORDER BY dropped, which a count does not need)."""
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def paginate(session: Session, stmt: Select[Any], page: int, per_page: int) -> dict[str, Any]:
    """Run ``stmt`` (selecting one entity) for one page; return ``{items, page, per_page, total}``."""
    total = count_rows(session, stmt)
    items = session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": items, "page": page, "per_page": per_page, "total": total}
