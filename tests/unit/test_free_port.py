"""The tests' (and make bench's) port pick: stacks that share the machine must not be handed the same port."""

from __future__ import annotations

from scripts import stack


def test_picks_that_nobody_binds_yet_never_repeat() -> None:
    # a stack picks its ports first and binds them later: the second pick must not be the first one again
    ports = [stack.free_port() for _ in range(500)]
    assert len(set(ports)) == len(ports)
    assert all(port in stack.PICK_PORTS for port in ports)
