"""A child's state (care.visits.state_of), the visit rule's configuration, and the gaps of
children nobody is to visit (care.pairing.find_gaps)."""

from __future__ import annotations

from datetime import date

from care.children import Colour
from care.pairing import ChildFacts, Gap, PairingFacts, find_gaps
from care.roles import Gender
from care.visits import State, VisitRule, expected_by, state_of

TODAY = date(2026, 6, 1)


def test_one_state_each_not_covered_first() -> None:
    cases = [
        (False, date(2026, 9, 1), State.NOT_COVERED),  # whatever the due date
        (False, date(2026, 1, 1), State.NOT_COVERED),
        (True, date(2026, 5, 31), State.OVERDUE),
        (True, date(2026, 6, 1), State.DUE_SOON),  # due today: not overdue yet
        (True, date(2026, 6, 4), State.DUE_SOON),  # three days ahead
        (True, date(2026, 6, 5), State.ON_TRACK),
    ]
    for covered, due, state in cases:
        assert state_of(covered=covered, due=due, today=TODAY) == state, (covered, due)


def test_the_rule_takes_the_configured_intervals_and_minimum() -> None:
    default = VisitRule()
    assert default.intervals_key() == "red=7,yellow=15,blue=30,green=60"
    monthly = VisitRule({Colour.GREEN: 30}, yearly_minimum=12)
    assert monthly.intervals_key() == "red=7,yellow=15,blue=30,green=30"
    never = None
    assert monthly.next_due(Colour.GREEN, last_visit=never, since=date(2026, 3, 1)) == date(
        2026, 3, 31
    )
    assert monthly.next_due(Colour.RED, last_visit=date(2026, 5, 1), since=date(2026, 3, 1)) == (
        date(2026, 5, 8)
    )
    assert monthly.expected_by(date(2026, 12, 31)) == 12 and default.expected_by(TODAY) == 2
    assert expected_by(TODAY) == default.expected_by(TODAY)


def child(child_id: int, *, covered: bool, family: bool = False) -> ChildFacts:
    return ChildFacts(
        child_id, Gender.MALE, date(2016, 1, 1), None, "示范县/城关镇", family, covered
    )


def test_every_child_nobody_visits_is_one_gap_and_a_left_volunteer_is_named() -> None:
    children = [
        child(1, covered=True),  # an active volunteer
        child(2, covered=False),  # nobody: categories 4–6
        child(3, covered=False, family=True),  # nobody: categories 1–3
        child(4, covered=False, family=True),  # their volunteer left
        child(5, covered=True, family=True),  # covered by an area only: still needs a family
    ]
    pairings = [
        PairingFacts(1, 10, date(2026, 4, 1), None),
        PairingFacts(4, 11, date(2026, 4, 1), None, volunteer_active=False),
    ]
    gaps = [(g.gap, g.child_ids, g.volunteer_ids) for g in find_gaps(children, [], pairings, TODAY)]
    assert gaps == [
        (Gap.VOLUNTEER_LEFT, (4,), (11,)),
        (Gap.NO_CARING_FAMILY, (3,), ()),
        (Gap.NO_CARING_FAMILY, (5,), ()),
        (Gap.NOT_COVERED, (2,), ()),
    ]
    # the left volunteer's pairing is due no review, and counts for no sibling or girl rule
    assert all(g.gap != Gap.REVIEW_DUE for g in find_gaps(children, [], pairings, date(2027, 4, 1))
               if 4 in g.child_ids)  # fmt: skip
