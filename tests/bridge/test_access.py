"""What a connection may receive: the exposure list, the authorize hook, the request."""

from __future__ import annotations

import pytest
from lilya.requests import Request

from ravyn.bridge.access import Access, SubscriptionRefused
from ravyn.events.registry import compile_pattern, matches

pytestmark = pytest.mark.timeout(10)


def make_access(authorize=None) -> Access:
    return Access(
        ["new_comment", "user.*"],
        authorize,
        matches=matches,
        is_pattern=lambda name: compile_pattern(name) is not None,
    )


def request(query: str = "") -> Request:
    return Request({"type": "http", "query_string": query.encode(), "headers": []})


@pytest.mark.parametrize(
    ("asked", "allowed"),
    [
        ("new_comment", True),
        ("user.*", True),
        ("user.created", True),
        ("user.profile.updated", False),  # `*` stops at a dot
        ("user.*.updated", False),  # a pattern only when exposed as such
        ("*", False),
        ("new_*", False),
        ("secret", False),
    ],
)
def test_a_request_may_only_narrow_what_is_exposed(asked: str, allowed: bool) -> None:
    assert make_access().covers(make_access().events, asked) is allowed


def test_resolve_names_what_was_refused_and_what_is_allowed() -> None:
    access = make_access()
    assert access.resolve(None, access.events) == ("new_comment", "user.*")
    assert access.resolve(["user.created", "user.created"], access.events) == ("user.created",)
    with pytest.raises(SubscriptionRefused, match="secret, \\*: this connection may receive"):
        access.resolve(["secret", "*", "new_comment"], access.events)


async def test_sync_and_async_hooks_can_grant_all_none_or_a_part() -> None:
    async def granting(connection: Request) -> set[str]:
        return {"user.created", "payroll", "user.*"}

    assert await make_access().allowed_for(request()) == ("new_comment", "user.*")
    assert await make_access(lambda connection: True).allowed_for(request()) == (
        "new_comment",
        "user.*",
    )
    assert await make_access(lambda connection: False).allowed_for(request()) == ()
    assert await make_access(granting).allowed_for(request()) == ("user.*", "user.created")


async def test_a_hook_returning_something_else_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="must return True, False or a set"):
        await make_access(lambda connection: "new_comment").allowed_for(request())


def test_a_bridge_needs_its_event_list() -> None:
    for events in ([], "new_comment"):
        with pytest.raises(ValueError, match="list of events it may expose"):
            Access(events, None, matches=matches, is_pattern=lambda name: False)
