"""ULIDs (adapters.system): Crockford base32 of 48-bit time + 80 random bits, sortable, monotonic."""

from __future__ import annotations

import os
import time

from hypothesis import given
from hypothesis import strategies as st

from adapters.system import UlidGenerator, process_id, ulid_text

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def reference_text(value: int) -> str:
    """The ULID spec's encoding, five bits at a time from the right."""
    chars = []
    for _ in range(26):
        value, index = divmod(value, 32)
        chars.append(CROCKFORD[index])
    return "".join(reversed(chars))


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_the_text_is_the_specs_crockford_base32(value: int) -> None:
    assert ulid_text(value) == reference_text(value)


@given(st.integers(min_value=0, max_value=2**128 - 1), st.integers(min_value=0, max_value=2**128 - 1))
def test_the_text_sorts_as_the_number(a: int, b: int) -> None:
    assert (ulid_text(a) < ulid_text(b)) == (a < b)


def test_ids_carry_the_time_and_increase_within_a_millisecond() -> None:
    ids = UlidGenerator()
    before = time.time_ns() // 1_000_000
    made = [ids.new_id() for _ in range(2_000)]
    after = time.time_ns() // 1_000_000
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(len(i) == 26 and set(i) <= set(CROCKFORD) for i in made)
    first_ms = int(made[0][:10].translate(str.maketrans(CROCKFORD, "0123456789abcdefghijklmnopqrstuv")), 32)
    assert before <= first_ms <= after


def random_part(ulid: str) -> str:
    return ulid[10:]


def test_a_forked_child_draws_fresh_random_bits_not_its_parents() -> None:
    """The generator reads random bytes ahead; a child must not make the ids its parent makes next."""
    ids = UlidGenerator()
    ids.new_id()  # the pool is filled before the fork
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its pid as it sees it, and its ids
        try:
            report = [str(process_id() == os.getpid())] + [ids.new_id() for _ in range(20)]
            os.write(write_end, "\n".join(report).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    parent = [ids.new_id() for _ in range(20)]
    with os.fdopen(read_end) as pipe:
        same_pid, *child = pipe.read().split("\n")
    os.waitpid(pid, 0)
    assert same_pid == "True"
    assert process_id() == os.getpid() != pid
    assert len(child) == 20
    assert not {random_part(i) for i in child} & {random_part(i) for i in parent}
