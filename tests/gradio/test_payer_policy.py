"""The core's choice of whose key pays, as a page open to visitors asks for it."""

from __future__ import annotations

import pytest

from milady_integrations.access import OperatorLimitError, OperatorLimits, caller_id, limits_line, payer_policy
from milady_integrations.errors import AuthenticationError


def test_visitor_mode_never_lends_the_operators_key() -> None:
    policy = payer_policy("visitor", "owner-key")

    assert policy.choose("mine", caller="address 1.2.3.4").secret() == "mine"
    with pytest.raises(AuthenticationError, match=r"No Milady Cloud key") as raised:
        policy.choose(None, caller="address 1.2.3.4")
    assert raised.value.hint == "Enter your own Milady Cloud key in the key field."


def test_visitor_mode_with_a_local_server_draws_for_free_without_limits() -> None:
    policy = payer_policy("visitor", "local-key", local=True)

    for _ in range(50):
        choice = policy.choose("", caller="address 1.2.3.4", images=4)
        assert (choice.source, choice.secret()) == ("local", "local-key")


def test_visitor_or_server_lends_within_default_limits() -> None:
    policy = payer_policy("visitor_or_server", "owner-key")

    choice = policy.choose(None, caller="address 1.2.3.4", images=4)
    assert (choice.source, choice.lent) == ("operator", True)
    assert policy.limits is not None and policy.limits.per_caller == 20


def test_a_visitor_is_its_login_when_it_has_one_else_its_address() -> None:
    limits = OperatorLimits(per_caller=2, per_app=100)
    policy = payer_policy("visitor_or_server", "owner-key", limits=limits)
    policy.choose(None, caller=caller_id("alice", "10.0.0.1"), images=2).reservation.settle(2)

    # Same address, other login: a visitor of its own.
    policy.choose(None, caller=caller_id("bob", "10.0.0.1"), images=2)
    with pytest.raises(OperatorLimitError, match="retry in"):
        policy.choose(None, caller=caller_id("alice", "10.0.0.2"), images=1)
    assert caller_id(None, "10.0.0.1") == "address 10.0.0.1"
    assert caller_id(None, None) == "address unknown"


def test_the_limits_line_names_both_limits() -> None:
    line = limits_line(OperatorLimits(per_caller=5, per_app=50))

    assert "at most 5 images per visitor and 50 for everyone together per hour" in line
