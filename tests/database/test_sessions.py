"""Managed sessions: a request's transaction commits before its response, or rolls back."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from ravyn import HTTPException, Ravyn, get, post
from ravyn.database import SqlDatabase, paginate
from ravyn.testclient import TestClient
from tests.web.helpers import serve

pytestmark = pytest.mark.timeout(60)


def notes_app(url: str) -> tuple[Ravyn, SqlDatabase, type]:
    db = SqlDatabase(url)

    class Note(db.Model):
        __tablename__ = "notes"
        id: Mapped[int] = mapped_column(primary_key=True)
        text: Mapped[str] = mapped_column(String(100), unique=True)

    @post("/notes")
    async def create(text: str, session: AsyncSession = db.managed_session) -> dict:
        note = Note(text=text)
        session.add(note)
        if text == "refused":
            raise HTTPException(409, "refused")
        if text.startswith("duplicate of "):
            session.add(Note(text=text.removeprefix("duplicate of ")))  # fails at commit
        else:
            await session.flush()
        return {"id": note.id, "text": text}

    @get("/notes")
    async def listing(
        page: int = 1, per_page: int = 2, session: AsyncSession = db.managed_session
    ) -> dict:
        result = await paginate(
            session, select(Note).order_by(Note.id), page=page, per_page=per_page
        )
        return {
            "items": [note.text for note in result.items],
            "page": result.page,
            "per_page": result.per_page,
            "total": result.total,
            "pages": result.pages,
        }

    app = Ravyn(routes=[create, listing], extensions={"db": db}, on_startup=[db.create_all])
    return app, db, Note


async def texts(db: SqlDatabase, model: type) -> list[str]:
    async with db.session() as session:
        return list(await session.scalars(select(model.text).order_by(model.id)))


def test_a_request_commits_before_its_response_on_a_real_server(database_url):
    app, db, Note = notes_app(database_url)
    with serve(app) as address:
        created = httpx.post(f"http://{address}/notes", json={"text": "first"})
        assert created.status_code == 201
        # The response left after the commit: another connection sees the row at once.
        seen = httpx.get(f"http://{address}/notes").json()
        assert seen["items"] == ["first"]


def test_a_failed_commit_answers_500_not_a_success(database_url):
    app, db, Note = notes_app(database_url)
    with TestClient(app) as client:
        assert client.post("/notes", json={"text": "taken"}).status_code == 201
        failed = client.post("/notes", json={"text": "duplicate of taken"})
        assert failed.status_code == 500
        assert client.get("/notes").json()["items"] == ["taken"]


def test_a_handler_that_raises_rolls_back(database_url):
    app, db, Note = notes_app(database_url)
    with TestClient(app) as client:
        refused = client.post("/notes", json={"text": "refused"})
        assert (refused.status_code, refused.json()) == (409, {"detail": "refused"})
        assert client.get("/notes").json()["total"] == 0


def test_pages(database_url):
    app, db, Note = notes_app(database_url)
    with TestClient(app) as client:
        for text in ("a", "b", "c", "d", "e"):
            client.post("/notes", json={"text": text})
        assert client.get("/notes", params={"page": 3}).json() == {
            "items": ["e"],
            "page": 3,
            "per_page": 2,
            "total": 5,
            "pages": 3,
        }
        assert client.get("/notes", params={"page": 4}).json()["items"] == []
        bad = client.get("/notes", params={"page": 0})
        assert (bad.status_code, bad.json()) == (400, {"detail": "page must be 1 or more, got 0."})
        too_many = client.get("/notes", params={"per_page": 1000})
        assert too_many.status_code == 400
        assert "per_page must be between 1 and 100" in too_many.json()["detail"]


async def test_a_session_block_commits_or_rolls_back(database_url):
    db = SqlDatabase(database_url)

    class Item(db.Model):
        __tablename__ = "items"
        id: Mapped[int] = mapped_column(primary_key=True)
        text: Mapped[str] = mapped_column(String(20), unique=True)

    await db.create_all()
    try:
        async with db.session() as session:
            session.add(Item(text="kept"))
        with pytest.raises(RuntimeError):
            async with db.session() as session:
                session.add(Item(text="dropped"))
                await session.flush()
                raise RuntimeError("the block failed")
        with pytest.raises(IntegrityError) as failure:
            async with db.session() as session:
                session.add(Item(text="kept"))
        assert "kept" not in str(failure.value)  # no parameter in an error, so in no log
        assert await texts(db, Item) == ["kept"]
    finally:
        await db.dispose()
