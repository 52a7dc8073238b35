"""The answer cache's bounds (hub/http/response_cache.py), in process: a count of answers and
a budget of bytes, whichever is reached first; an answer too big for it is not kept."""

from __future__ import annotations

from hub.http.response_cache import Answer, ResponseCache
from policies.limits import AnswerCache

MB = 1024 * 1024


def _answer(size: int) -> Answer:
    return Answer(1, b"x" * size, 1, (), ())


def _key(n: int) -> tuple[str, str, tuple[object, ...], str]:
    return (f"q{n}", "{}", (), "2026-11-28")


def test_the_least_recently_used_go_first_past_the_bytes_budget() -> None:
    cache = ResponseCache(AnswerCache(frozenset({"subject"}), 1000, 1))
    for n in range(11):
        cache.put(_key(n), _answer(MB // 10))  # ten of these fill the budget; the 11th overflows
    assert cache.get(_key(0)) is None and len(cache) == 10
    assert cache.get(_key(1)) is not None  # read: now the most recently used
    cache.put(_key(11), _answer(MB // 10))
    assert cache.get(_key(1)) is not None and cache.get(_key(2)) is None


def test_the_count_bounds_too_and_a_huge_answer_is_not_kept() -> None:
    cache = ResponseCache(AnswerCache(frozenset({"subject"}), 3, 1))
    for n in range(5):
        cache.put(_key(n), _answer(10))
    assert len(cache) == 3 and cache.get(_key(1)) is None
    cache.put(_key(9), _answer(MB // 10 + 1))
    assert cache.get(_key(9)) is None and len(cache) == 3
    cache.put(_key(4), _answer(20))  # a new answer under a kept key replaces it
    assert cache.get(_key(4)) == _answer(20) and len(cache) == 3
