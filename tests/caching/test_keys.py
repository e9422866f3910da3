import datetime

import msgspec
import pytest

from ravyn.core.caches.base import make_key

pytestmark = pytest.mark.timeout(10)


def test_no_arguments_gives_the_bare_name():
    assert make_key("get_products", (), {}) == "get_products"


def test_key_is_stable_across_processes_and_releases():
    # A literal: the digest must not depend on hash randomization or dict order.
    assert make_key("f", (1, "a"), {"b": [1, 2], "a": {"y": 1, "x": 2}}) == (
        "f:adbead43830f361fb6de6a6005372d96"
    )


def test_keyword_order_does_not_change_the_key():
    assert make_key("f", (), {"a": 1, "b": 2}) == make_key("f", (), {"b": 2, "a": 1})
    assert make_key("f", ({"x": 1, "y": 2},), {}) == make_key("f", ({"y": 2, "x": 1},), {})


def test_different_arguments_or_names_give_different_keys():
    keys = {
        make_key("f", (1,), {}),
        make_key("f", (2,), {}),
        make_key("f", ("1",), {}),
        make_key("f", (), {"x": 1}),
        make_key("g", (1,), {}),
        make_key("f", (1, 2), {}),
        make_key("f", ((1, 2),), {}),
    }
    assert len(keys) == 7
    assert all(key.startswith(("f:", "g:")) for key in keys)


def test_msgspec_types_are_accepted():
    class Point(msgspec.Struct):
        x: int
        y: int

    when = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    assert make_key("f", (Point(1, 2), when), {}) == make_key("f", (Point(1, 2), when), {})
    assert make_key("f", (Point(1, 2),), {}) != make_key("f", (Point(2, 1),), {})


def test_unencodable_argument_says_to_pass_key():
    with pytest.raises(TypeError, match=r"cannot build a key for f\(\).*key="):
        make_key("f", (object(),), {})
