"""Issue 12, finding 4, through the command line: `crm users unlock --mobile …` lifts a sign-in lock-out on the
embedded store (SPEC §5)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crm_domain.errors import TooManyRequests
from entrypoints.cli.context import container
from tests.cli.conftest import Result, crm_cli, data_dir

__all__ = ["crm_cli", "data_dir"]  # the CLI tests' fixtures


def test_crm_users_unlock_lifts_a_lock_out(crm_cli: Callable[..., Result]) -> None:
    run = crm_cli
    assert run("users", "create-admin", "--mobile", "+919812345678", "--name", "Devi Dealer").code == 0
    auth = container().auth
    auth.request_otp("+919812345678", "192.0.2.1")
    with pytest.raises(TooManyRequests):
        auth.request_otp("+919812345678", "192.0.2.1")

    unlocked: Result = run("users", "unlock", "--mobile", "98123 45678")

    assert unlocked.code == 0, unlocked.err
    assert "unlocked" in unlocked.out
    auth.request_otp("+919812345678", "192.0.2.1")  # a new code at once


def test_crm_users_unlock_of_a_bad_mobile_is_one_line_and_exit_1(crm_cli: Callable[..., Result]) -> None:
    result: Result = crm_cli("users", "unlock", "--mobile", "not-a-number")
    assert result.code == 1
    assert len(result.err.strip().splitlines()) == 1
