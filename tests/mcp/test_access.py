"""The key mechanism: whose key pays, and the operator's limits (with an injected clock)."""

from __future__ import annotations

import pytest

from milady_integrations import AuthenticationError, MiladyConnectionError
from milady_integrations.access import KEY_HINTS, KeyPolicy, OperatorLimitError, OperatorLimits, fit_key_hint

OPERATOR = "operator-key-0123456789"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_callers_own_key_wins_and_is_never_limited() -> None:
    limits = OperatorLimits(per_caller=1, per_app=1, clock=Clock())
    policy = KeyPolicy(OPERATOR, serve_others=True, limits=limits, how="header")
    for _ in range(5):
        choice = policy.choose("caller-key-abcdefgh", caller="a", images=4)
        assert (choice.source, choice.secret()) == ("caller", "caller-key-abcdefgh")
        choice.reservation.settle(4)
    assert limits.used() == 0


def test_a_caller_without_a_key_gets_the_operators_only_when_allowed() -> None:
    refusing = KeyPolicy(OPERATOR, serve_others=False, how="header")
    with pytest.raises(AuthenticationError) as caught:
        refusing.choose(None, caller="a", images=1)
    assert "X-API-Key" in str(caught.value) and OPERATOR not in str(caught.value)
    # The operator itself (caller None: stdio, a local script) always uses its key.
    assert refusing.choose(None, images=1).source == "operator"
    lending = KeyPolicy(OPERATOR, serve_others=True, how="header")
    assert lending.choose("  ", caller="a", images=1).secret() == OPERATOR


def test_no_key_anywhere_says_how_to_send_one() -> None:
    with pytest.raises(AuthenticationError) as caught:
        KeyPolicy(None, how="run_config").choose(None, images=1)
    assert KEY_HINTS["run_config"] in str(caught.value)


def test_per_caller_limit_counts_billed_images_and_says_how_long_to_wait() -> None:
    clock = Clock()
    limits = OperatorLimits(per_caller=4, per_app=100, clock=clock)
    policy = KeyPolicy(OPERATOR, serve_others=True, limits=limits, how="header")
    policy.choose(None, caller="a", images=3).reservation.settle(3)
    clock.now += 600
    policy.choose(None, caller="a", images=1).reservation.settle(1)
    with pytest.raises(OperatorLimitError) as caught:
        policy.choose(None, caller="a", images=1)
    # The first 3 images leave the window 3000 s later: that is the wait.
    assert caught.value.retry_after == pytest.approx(3000)
    assert "50 min" in str(caught.value) and "X-API-Key" in str(caught.value)
    # Another caller is not held back by a's use.
    assert policy.choose(None, caller="b", images=4).source == "operator"
    clock.now += 3000
    assert policy.choose(None, caller="a", images=3).source == "operator"


def test_the_app_limit_binds_every_caller_together() -> None:
    clock = Clock()
    limits = OperatorLimits(per_caller=10, per_app=5, clock=clock)
    policy = KeyPolicy(OPERATOR, serve_others=True, limits=limits)
    policy.choose(None, caller="a", images=3).reservation.settle(3)
    policy.choose(None, caller="b", images=2).reservation.settle(2)
    with pytest.raises(OperatorLimitError, match="for everyone together"):
        policy.choose(None, caller="c", images=1)
    clock.now += 3600
    assert limits.used() == 0


def test_images_in_flight_are_held_and_unbilled_failures_are_released() -> None:
    limits = OperatorLimits(per_caller=4, per_app=100, clock=Clock())
    policy = KeyPolicy(OPERATOR, serve_others=True, limits=limits)
    first = policy.choose(None, caller="a", images=4)
    with pytest.raises(OperatorLimitError):
        policy.choose(None, caller="a", images=1)  # the 4 in flight count
    first.reservation.settle_error(AuthenticationError("refused"))  # proved not run: released
    partial = policy.choose(None, caller="a", images=4)
    partial.reservation.settle(2)  # partial success: only 2 billed
    assert limits.used("a") == 2
    risky = policy.choose(None, caller="a", images=2)
    risky.reservation.settle_error(MiladyConnectionError("broke", may_have_run=True))
    assert limits.used("a") == 4


def test_the_local_server_is_not_limited() -> None:
    limits = OperatorLimits(per_caller=1, per_app=1, clock=Clock())
    policy = KeyPolicy("local-key", local=True, serve_others=False, limits=limits)
    assert policy.choose(None, caller="a", images=4).source == "local"


def test_keys_never_show_in_reprs() -> None:
    policy = KeyPolicy(OPERATOR, serve_others=True)
    choice = policy.choose("caller-key-abcdefgh", caller="a", images=1)
    assert OPERATOR not in repr(policy)
    assert "caller-key-abcdefgh" not in repr(choice)


def test_the_401_hint_fits_the_face_and_whose_key_was_refused() -> None:
    mine = fit_key_hint(AuthenticationError("Invalid API key"), "header")
    assert str(mine) == f"Invalid API key. {KEY_HINTS['header']}"
    lent = KeyPolicy(OPERATOR, serve_others=True).choose(None, caller="a", images=1).lent
    theirs = fit_key_hint(AuthenticationError("Invalid API key"), "header", lent=lent)
    assert "operator" in str(theirs) and "X-API-Key" in str(theirs) and "MILADY_API_KEY" not in str(theirs)
