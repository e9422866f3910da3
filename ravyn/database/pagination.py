"""``paginate``: one page of a query's rows, with the numbers a client needs to ask for more."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ravyn.exceptions import HTTPException

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """Rows ``items`` of page ``page`` (from 1), ``per_page`` each, of ``total`` rows."""

    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages ``total`` rows make (0 when there is none)."""
        return -(-self.total // self.per_page)


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    *,
    page: int = 1,
    per_page: int = 20,
    max_per_page: int = 100,
) -> Page[Any]:
    """Page ``page`` of ``statement`` (give it an ``order_by``, or pages may overlap).

    Items are what ``session.scalars`` returns (ORM objects for ``select(Model)``). ``page``
    and ``per_page`` usually come from the client: out of range, they are a 400 that says
    which bounds hold.
    """
    if page < 1:
        raise HTTPException(400, f"page must be 1 or more, got {page}.")
    if not 1 <= per_page <= max_per_page:
        raise HTTPException(400, f"per_page must be between 1 and {max_per_page}, got {per_page}.")
    count = select(func.count()).select_from(statement.order_by(None).subquery())
    total = (await session.execute(count)).scalar_one()
    rows = await session.scalars(statement.limit(per_page).offset((page - 1) * per_page))
    return Page(items=list(rows), page=page, per_page=per_page, total=total)
