"""The invite rules, pure: who may issue what, an invite's state, slowing down wrong codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from care.invites import (
    FAILURE_WINDOW,
    FAILURES_ALLOWED,
    InviteState,
    hint_of,
    masked,
    may_issue,
    new_code,
    retry_in,
    state_of,
)
from care.roles import Role

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def test_an_issuer_may_issue_roles_up_to_their_own_within_their_area() -> None:
    town = "示范县/城关镇"
    assert may_issue(Role.SUPERVISOR, town, Role.SUPERVISOR, town)
    assert may_issue(Role.SUPERVISOR, town, Role.DIRECTOR, town + "/东村")
    assert not may_issue(Role.SUPERVISOR, town, Role.ADMIN, town)
    assert not may_issue(Role.SUPERVISOR, town, Role.VOLUNTEER, "示范县/河口镇/柳树村")
    assert not may_issue(Role.SUPERVISOR, town, Role.VOLUNTEER, "示范县/城关镇二")  # a prefix
    assert not may_issue(Role.DIRECTOR, town + "/东村", Role.VOLUNTEER, town + "/东村")
    assert may_issue(Role.ADMIN, "示范县", Role.ADMIN, town)


def test_the_state_of_an_invite() -> None:
    def state(**changes: object) -> InviteState:
        given: dict[str, object] = dict(
            used=False, revoked=False, expires_at=LATER, now=NOW, issuer_may_issue=True
        )
        given.update(changes)
        return state_of(**given)  # type: ignore[arg-type]

    assert state() == InviteState.VALID
    assert state(used=True, revoked=True) == InviteState.USED
    assert state(revoked=True) == InviteState.REVOKED
    assert state(issuer_may_issue=False) == InviteState.REVOKED
    assert state(expires_at=NOW) == InviteState.EXPIRED
    assert state(expires_at=NOW, revoked=True) == InviteState.REVOKED


def test_wrong_codes_slow_an_account_down_for_the_rest_of_the_window() -> None:
    failures = [NOW + timedelta(seconds=s) for s in range(FAILURES_ALLOWED - 1)]
    assert retry_in(failures, NOW + timedelta(seconds=5)) is None  # four: not yet
    failures.append(NOW + timedelta(seconds=20))
    assert retry_in(failures, NOW + timedelta(seconds=20)) == 40  # the first leaves at 60 s
    assert retry_in(failures, NOW + timedelta(seconds=59, milliseconds=500)) == 1
    assert retry_in(failures, NOW + FAILURE_WINDOW) is None
    old = [NOW - timedelta(minutes=5)] * 10  # failures long ago do not count
    assert retry_in(old, NOW) is None


def test_only_a_few_characters_of_a_code_are_ever_shown() -> None:
    code = new_code()
    assert len(code) == 24 and masked(hint_of(code)) == code[:4] + "••••"
