from datetime import date

import pytest

from care.children import age_on
from care.pairing import (
    Candidate,
    ChildFacts,
    Gap,
    GapItem,
    PairingFacts,
    Rule,
    VolunteerFacts,
    check_choice,
    find_gaps,
    last_march_start,
    rank_volunteers,
)
from care.roles import Gender

TODAY = date(2026, 11, 23)
TOWN = "示范县/城关镇"
OTHER_TOWN = "示范县/河口镇"
F, M = Gender.FEMALE, Gender.MALE


def child(
    child_id: int = 1,
    gender: Gender = M,
    birth_date: date = date(2020, 6, 1),
    household: str | None = None,
    town: str = TOWN,
    required: bool = False,
) -> ChildFacts:
    return ChildFacts(child_id, gender, birth_date, household, town, required)


def volunteer(
    person_id: int, gender: Gender = F, town: str = TOWN, load: int = 0
) -> VolunteerFacts:
    return VolunteerFacts(person_id, gender, town, load)


def pairing(
    child_id: int,
    volunteer_id: int,
    started_on: date = date(2026, 4, 1),
    reviewed_on: date | None = None,
) -> PairingFacts:
    return PairingFacts(child_id, volunteer_id, started_on, reviewed_on)


def ranking(candidates: list[Candidate]) -> list[tuple[int, tuple[Rule, ...]]]:
    return [(c.volunteer.person_id, c.breaks) for c in candidates]


# --- rank_volunteers ------------------------------------------------------------------------


def test_only_volunteers_of_the_childs_town_are_candidates() -> None:
    volunteers = [
        volunteer(1, load=1),
        volunteer(2, town=OTHER_TOWN),
        volunteer(3, town=TOWN + "/东村"),  # a village of the child's town
        volunteer(4, town="示范县"),  # the county is not the town
        volunteer(5, town=TOWN + "镇"),  # a mere prefix of the path is another town
    ]
    assert ranking(rank_volunteers(child(), volunteers, [], TODAY, siblings=())) == [
        (3, ()),
        (1, ()),
    ]


def test_clean_candidates_least_loaded_first_ties_by_id() -> None:
    volunteers = [volunteer(5, load=2), volunteer(4, load=0), volunteer(3, load=2), volunteer(9)]
    ranked = rank_volunteers(child(), volunteers, [], TODAY, siblings=())
    assert ranking(ranked) == [(4, ()), (9, ()), (3, ()), (5, ())]
    assert not any(c.sibling_family for c in ranked)


def test_rule_breakers_come_after_fewest_breaks_then_load() -> None:
    girl = child(1, F, date(2015, 1, 1), household="h")
    volunteers = [
        volunteer(1, M, load=0),  # a man, and not the sister's volunteer: two breaks
        volunteer(2, F, load=5),  # the sister's volunteer: clean
        volunteer(3, F, load=0),  # not the sister's volunteer: one break
        volunteer(4, M, load=1),  # two breaks
        volunteer(5, F, load=1),  # one break
    ]
    ranked = rank_volunteers(girl, volunteers, [pairing(2, 2)], TODAY, siblings=(1, 2))
    assert ranking(ranked) == [
        (2, ()),
        (3, (Rule.SIBLINGS_TOGETHER,)),
        (5, (Rule.SIBLINGS_TOGETHER,)),
        (1, (Rule.SIBLINGS_TOGETHER, Rule.GIRL_FEMALE_VOLUNTEER)),
        (4, (Rule.SIBLINGS_TOGETHER, Rule.GIRL_FEMALE_VOLUNTEER)),
    ]


def test_a_volunteer_already_paired_with_the_child_ranks_last() -> None:
    girl = child(1, F, date(2010, 1, 1))
    volunteers = [volunteer(1, F, load=0), volunteer(2, M, load=0), volunteer(3, F, load=9)]
    ranked = rank_volunteers(girl, volunteers, [pairing(1, 1)], TODAY, siblings=())
    assert ranking(ranked) == [
        (3, ()),
        (2, (Rule.GIRL_FEMALE_VOLUNTEER,)),
        (1, (Rule.ALREADY_PAIRED,)),
    ]


@pytest.mark.parametrize(
    ("gender", "birth_date", "breaks"),
    [
        (F, date(2018, 11, 24), ()),  # turns 8 tomorrow
        (F, date(2018, 11, 23), (Rule.GIRL_FEMALE_VOLUNTEER,)),  # turns 8 today
        (F, date(2010, 1, 1), (Rule.GIRL_FEMALE_VOLUNTEER,)),
        (M, date(2010, 1, 1), ()),  # boys may have male volunteers at any age
    ],
)
def test_girls_from_eight_are_paired_with_women(
    gender: Gender, birth_date: date, breaks: tuple[Rule, ...]
) -> None:
    kid = child(1, gender, birth_date)
    assert check_choice(kid, volunteer(7, M), [], TODAY, siblings=()) == breaks
    assert check_choice(kid, volunteer(8, F), [], TODAY, siblings=()) == ()


def test_a_girl_born_on_29_february() -> None:
    girl = child(1, F, date(2016, 2, 29))
    man = volunteer(7, M)
    assert check_choice(girl, man, [], date(2024, 2, 28), siblings=()) == ()
    assert check_choice(girl, man, [], date(2024, 2, 29), siblings=()) == (
        Rule.GIRL_FEMALE_VOLUNTEER,
    )
    # in years without 29 February she turns a year older on 1 March
    assert age_on(date(2016, 2, 29), date(2017, 2, 28)) == 0
    assert age_on(date(2016, 2, 29), date(2017, 3, 1)) == 1


def test_siblings_with_no_volunteer_constrain_nothing() -> None:
    volunteers = [volunteer(1, load=1), volunteer(2)]
    ranked = rank_volunteers(child(1, household="h"), volunteers, [], TODAY, siblings=(1, 2))
    assert ranking(ranked) == [(2, ()), (1, ())]
    assert not any(c.sibling_family for c in ranked)


def test_siblings_with_one_volunteer_go_to_that_family() -> None:
    volunteers = [volunteer(1), volunteer(2, load=4)]
    pairings = [pairing(2, 2), pairing(3, 2)]
    ranked = rank_volunteers(child(1, household="h"), volunteers, pairings, TODAY, siblings=(2, 3))
    assert ranking(ranked) == [(2, ()), (1, (Rule.SIBLINGS_TOGETHER,))]
    assert [c.sibling_family for c in ranked] == [True, False]


def test_siblings_with_two_volunteers_either_keeps_them_together() -> None:
    volunteers = [volunteer(1), volunteer(2, load=3), volunteer(3, load=2)]
    pairings = [pairing(2, 2), pairing(2, 3), pairing(9, 1)]  # child 9 is no sibling
    ranked = rank_volunteers(child(1, household="h"), volunteers, pairings, TODAY, siblings=(1, 2))
    assert ranking(ranked) == [(3, ()), (2, ()), (1, (Rule.SIBLINGS_TOGETHER,))]
    assert [c.sibling_family for c in ranked] == [True, True, False]


def test_check_choice_reports_a_volunteer_of_another_town() -> None:
    for town in (OTHER_TOWN, "示范县"):
        outsider = volunteer(1, F, town=town)
        assert check_choice(child(), outsider, [], TODAY, siblings=()) == (Rule.SAME_TOWN,)
    villager = volunteer(2, F, town=TOWN + "/东村")
    assert check_choice(child(), villager, [], TODAY, siblings=()) == ()


def test_check_choice_reports_every_broken_rule_in_order() -> None:
    girl = child(1, F, date(2012, 3, 3), household="h")
    man = volunteer(1, M, town=OTHER_TOWN)
    pairings = [pairing(1, 1), pairing(2, 5)]
    assert check_choice(girl, man, pairings, TODAY, siblings=(1, 2)) == tuple(Rule)
    assert check_choice(girl, volunteer(5), pairings, TODAY, siblings=(1, 2)) == ()


# --- the March review -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "start"),
    [
        (date(2026, 11, 23), date(2026, 3, 1)),
        (date(2026, 2, 10), date(2025, 3, 1)),
        (date(2026, 2, 28), date(2025, 3, 1)),
        (date(2028, 2, 29), date(2027, 3, 1)),
        (date(2026, 3, 1), date(2026, 3, 1)),
        (date(2026, 3, 15), date(2026, 3, 1)),
        (date(2026, 3, 31), date(2026, 3, 1)),
        (date(2026, 4, 1), date(2026, 3, 1)),
        (date(2026, 1, 1), date(2025, 3, 1)),
        (date(2026, 12, 31), date(2026, 3, 1)),
    ],
)
def test_last_march_start(today: date, start: date) -> None:
    assert last_march_start(today) == start


@pytest.mark.parametrize(
    ("today", "reviewed_on", "due"),
    [
        (date(2026, 2, 28), date(2025, 2, 28), True),
        (date(2026, 2, 28), date(2025, 3, 1), False),
        (date(2028, 2, 29), date(2027, 2, 28), True),
        (date(2028, 2, 29), date(2027, 3, 1), False),
        (date(2026, 3, 1), date(2026, 2, 28), True),  # March has begun: review again
        (date(2026, 3, 1), date(2026, 3, 1), False),
        (date(2026, 3, 31), date(2026, 2, 28), True),
        (date(2026, 3, 31), date(2026, 3, 31), False),
        (date(2026, 4, 1), date(2026, 2, 28), True),
        (date(2026, 4, 1), date(2026, 3, 2), False),
    ],
)
def test_review_due_since_the_last_march(today: date, reviewed_on: date, due: bool) -> None:
    pairings = [pairing(1, 7, started_on=date(2020, 1, 1), reviewed_on=reviewed_on)]
    expected = [GapItem(Gap.REVIEW_DUE, (1,), (7,))] if due else []
    assert find_gaps([child(1)], [volunteer(7)], pairings, today) == expected


def test_an_unreviewed_pairing_counts_from_its_start() -> None:
    pairings = [pairing(1, 7, started_on=date(2026, 2, 20)), pairing(2, 7, date(2026, 3, 1))]
    gaps = find_gaps([child(1), child(2)], [volunteer(7)], pairings, date(2026, 11, 23))
    assert gaps == [GapItem(Gap.REVIEW_DUE, (1,), (7,))]


# --- other gaps -----------------------------------------------------------------------------


def test_no_caring_family_for_categories_one_to_three() -> None:
    children = [child(1, required=True), child(2, required=True), child(3, required=False)]
    gaps = find_gaps(children, [volunteer(7)], [pairing(2, 7)], TODAY)
    assert gaps == [GapItem(Gap.NO_CARING_FAMILY, (1,), ())]


def test_siblings_split_is_reported_once_per_household() -> None:
    children = [
        child(3, household="a"),
        child(1, household="a"),
        child(2, household="a"),
        child(4, household="b"),  # same volunteers: together
        child(5, household="b"),
        child(6, household="c"),  # nobody paired: not split (but maybe no caring family)
        child(7, household="c"),
        child(8),  # no household: no siblings
        child(9),
    ]
    pairings = [
        *(pairing(1, 10), pairing(1, 11), pairing(2, 11), pairing(3, 12)),
        *(pairing(4, 10), pairing(4, 11), pairing(5, 11), pairing(5, 10)),
        *(pairing(8, 10), pairing(9, 11)),
    ]
    gaps = find_gaps(children, [volunteer(10), volunteer(11), volunteer(12)], pairings, TODAY)
    assert gaps == [GapItem(Gap.SIBLINGS_SPLIT, (1, 2, 3), (10, 11, 12))]


def test_an_unpaired_sibling_of_a_paired_child_is_split() -> None:
    children = [child(1, household="h"), child(2, household="h")]
    gaps = find_gaps(children, [volunteer(7)], [pairing(2, 7)], TODAY)
    assert gaps == [GapItem(Gap.SIBLINGS_SPLIT, (1, 2), (7,))]


def test_girl_with_man() -> None:
    children = [
        child(1, F, date(2018, 11, 23)),  # 8 today
        child(2, F, date(2018, 11, 24)),  # 7
        child(3, M, date(2010, 1, 1)),
        child(4, F, date(2012, 1, 1)),  # paired with a woman only
    ]
    volunteers = [volunteer(7, M), volunteer(8, F), volunteer(9, M)]
    pairings = [pairing(1, 9), pairing(1, 8), pairing(1, 7), pairing(2, 7), pairing(3, 7)]
    pairings.append(pairing(4, 8))
    assert find_gaps(children, volunteers, pairings, TODAY) == [
        GapItem(Gap.GIRL_WITH_MAN, (1,), (7, 9))
    ]


def test_gaps_are_sorted_by_kind_then_child() -> None:
    children = [
        child(5, F, date(2010, 1, 1), household="h"),
        child(4, household="h"),
        child(3, required=True),
        child(2, required=True),
    ]
    pairings = [pairing(5, 7, started_on=date(2025, 1, 1)), pairing(4, 8)]
    gaps = find_gaps(children, [volunteer(7, M), volunteer(8)], pairings, TODAY)
    assert [(g.gap, g.child_ids) for g in gaps] == [
        (Gap.NO_CARING_FAMILY, (2,)),
        (Gap.NO_CARING_FAMILY, (3,)),
        (Gap.SIBLINGS_SPLIT, (4, 5)),
        (Gap.GIRL_WITH_MAN, (5,)),
        (Gap.REVIEW_DUE, (5,)),
    ]


def test_pairings_of_children_not_listed_are_ignored() -> None:
    old = pairing(99, 7, started_on=date(2020, 1, 1))
    assert find_gaps([child(1)], [volunteer(7)], [old], TODAY) == []


def test_codes() -> None:
    assert [r.value for r in Rule] == [
        "siblings_together",
        "girl_female_volunteer",
        "same_town",
        "already_paired",
    ]
    assert [g.value for g in Gap] == [
        "volunteer_left",
        "no_caring_family",
        "not_covered",
        "siblings_split",
        "girl_with_man",
        "review_due",
    ]
