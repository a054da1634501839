"""Pairing rules (结对): which volunteers may care for a child, best first, and the gaps to close.

Pure: no Telegram, no SQL. Rules and gaps are machine codes; the Telegram layer translates them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from care.children import age_on
from care.roles import Gender, within

GIRL_AGE = 8  # girls this old and older are paired with female volunteers
REVIEW_MONTH = 3  # pairings are reviewed every year by the end of March (每年3月底前更新)


@dataclass(frozen=True, slots=True)
class ChildFacts:
    child_id: int
    gender: Gender
    birth_date: date
    household: str | None  # children sharing it are siblings; None: no known siblings
    town: str  # area path of the child's town, e.g. "示范县/城关镇"
    individual_family_required: bool  # categories 1–3: at least one caring family
    covered: bool = True  # someone is to visit the child (storage.cover: the one rule)


@dataclass(frozen=True, slots=True)
class VolunteerFacts:
    person_id: int
    gender: Gender
    town: str  # area path of the volunteer's town (a village below it counts as that town)
    load: int  # children currently paired with this volunteer


@dataclass(frozen=True, slots=True)
class PairingFacts:
    """An active pairing. A volunteer who left (deactivated) keeps their pairings until the
    children are moved; such pairings count for no rule and cover nobody."""

    child_id: int
    volunteer_id: int
    started_on: date
    reviewed_on: date | None
    volunteer_active: bool = True


class Rule(StrEnum):
    SIBLINGS_TOGETHER = "siblings_together"
    GIRL_FEMALE_VOLUNTEER = "girl_female_volunteer"
    SAME_TOWN = "same_town"
    ALREADY_PAIRED = "already_paired"


@dataclass(frozen=True, slots=True)
class Candidate:
    volunteer: VolunteerFacts
    breaks: tuple[Rule, ...]  # in the order of `Rule`; empty when the choice is clean
    sibling_family: bool  # already paired with a sibling of the child


class Gap(StrEnum):
    # The first three list every child nobody is to visit, each child once.
    VOLUNTEER_LEFT = "volunteer_left"  # their only volunteers left (deactivated)
    NO_CARING_FAMILY = "no_caring_family"  # categories 1–3 without an individual volunteer
    NOT_COVERED = "not_covered"  # categories 4–6: no volunteer, no area cover
    SIBLINGS_SPLIT = "siblings_split"
    GIRL_WITH_MAN = "girl_with_man"
    REVIEW_DUE = "review_due"


@dataclass(frozen=True, slots=True)
class GapItem:
    gap: Gap
    child_ids: tuple[int, ...]  # sorted
    volunteer_ids: tuple[int, ...]  # sorted; empty for NO_CARING_FAMILY and NOT_COVERED


def _needs_woman(child: ChildFacts, today: date) -> bool:
    return child.gender == Gender.FEMALE and age_on(child.birth_date, today) >= GIRL_AGE


def last_march_start(today: date) -> date:
    """1 March of the most recent March that has begun on `today` (today included)."""
    year = today.year if today.month >= REVIEW_MONTH else today.year - 1
    return date(year, REVIEW_MONTH, 1)


def _paired_volunteers(
    child_id: int, siblings: Collection[int], pairings: Iterable[PairingFacts]
) -> tuple[set[int], set[int]]:
    """Volunteers of the child itself, and of its siblings (`siblings` may include the child)."""
    sibling_ids = set(siblings)
    own: set[int] = set()
    of_siblings: set[int] = set()
    for pairing in pairings:
        if not pairing.volunteer_active:
            continue
        if pairing.child_id == child_id:
            own.add(pairing.volunteer_id)
        elif pairing.child_id in sibling_ids:
            of_siblings.add(pairing.volunteer_id)
    return own, of_siblings


def _breaks(
    child: ChildFacts, volunteer: VolunteerFacts, own: set[int], of_siblings: set[int], today: date
) -> tuple[Rule, ...]:
    broken = {
        Rule.SIBLINGS_TOGETHER: bool(of_siblings) and volunteer.person_id not in of_siblings,
        Rule.GIRL_FEMALE_VOLUNTEER: volunteer.gender == Gender.MALE and _needs_woman(child, today),
        Rule.SAME_TOWN: not within(volunteer.town, child.town),
        Rule.ALREADY_PAIRED: volunteer.person_id in own,
    }
    return tuple(rule for rule, is_broken in broken.items() if is_broken)


def _rank(candidate: Candidate) -> tuple[bool, int, int, int]:
    # Clean candidates need no sibling key: when siblings have volunteers, any other volunteer
    # breaks SIBLINGS_TOGETHER, so clean candidates are either all sibling families or none.
    return (
        Rule.ALREADY_PAIRED in candidate.breaks,
        len(candidate.breaks),
        candidate.volunteer.load,
        candidate.volunteer.person_id,
    )


def rank_volunteers(
    child: ChildFacts,
    volunteers: Iterable[VolunteerFacts],
    pairings: Iterable[PairingFacts],
    today: date,
    *,
    siblings: Collection[int],
) -> list[Candidate]:
    """The child's town's volunteers, best first: clean choices (sibling families, then least
    loaded), then rule breakers (fewest breaks, then least loaded), this child's own volunteers
    last; ties by person id. `siblings`: ids of the children of the child's household."""
    own, of_siblings = _paired_volunteers(child.child_id, siblings, pairings)
    candidates = [
        Candidate(
            volunteer=volunteer,
            breaks=_breaks(child, volunteer, own, of_siblings, today),
            sibling_family=volunteer.person_id in of_siblings,
        )
        for volunteer in volunteers
        if within(volunteer.town, child.town)
    ]
    return sorted(candidates, key=_rank)


def check_choice(
    child: ChildFacts,
    volunteer: VolunteerFacts,
    pairings: Iterable[PairingFacts],
    today: date,
    *,
    siblings: Collection[int],
) -> tuple[Rule, ...]:
    """What pairing `volunteer` with `child` would break, including SAME_TOWN; empty if nothing."""
    own, of_siblings = _paired_volunteers(child.child_id, siblings, pairings)
    return _breaks(child, volunteer, own, of_siblings, today)


def find_gaps(
    children: Iterable[ChildFacts],
    volunteers: Iterable[VolunteerFacts],
    pairings: Iterable[PairingFacts],
    today: date,
) -> list[GapItem]:
    """Gaps among `children` (pairings of other children are ignored), sorted by kind in the
    order of `Gap`, then by child ids, then by volunteer ids. Every child not covered is in
    exactly one of VOLUNTEER_LEFT, NO_CARING_FAMILY and NOT_COVERED; a child of categories
    1–3 covered only by an area is still listed as lacking a caring family."""
    listed = list(children)
    known = {child.child_id for child in listed}
    men = {volunteer.person_id for volunteer in volunteers if volunteer.gender == Gender.MALE}
    review_before = last_march_start(today)

    # Collected as plain ints and sorted before wrapping: sorting 10⁵ GapItems by key is slow.
    volunteers_of: dict[int, set[int]] = defaultdict(set)
    left_of: dict[int, set[int]] = defaultdict(set)
    review_due: list[tuple[int, int]] = []
    for pairing in pairings:
        if pairing.child_id not in known:
            continue
        if not pairing.volunteer_active:
            left_of[pairing.child_id].add(pairing.volunteer_id)
            continue
        volunteers_of[pairing.child_id].add(pairing.volunteer_id)
        if (pairing.reviewed_on or pairing.started_on) < review_before:
            review_due.append((pairing.child_id, pairing.volunteer_id))

    no_one: frozenset[int] = frozenset()
    left: list[tuple[int, tuple[int, ...]]] = []
    no_family: list[int] = []
    not_covered: list[int] = []
    with_man: list[tuple[int, tuple[int, ...]]] = []
    households: dict[str, list[int]] = defaultdict(list)
    for child in listed:
        paired = volunteers_of.get(child.child_id, no_one)
        if not child.covered and left_of.get(child.child_id) and not paired:
            left.append((child.child_id, tuple(sorted(left_of[child.child_id]))))
        elif child.individual_family_required and not paired:
            no_family.append(child.child_id)
        elif not child.covered:
            not_covered.append(child.child_id)
        if not paired.isdisjoint(men) and _needs_woman(child, today):
            with_man.append((child.child_id, tuple(sorted(paired & men))))
        if child.household is not None:
            households[child.household].append(child.child_id)

    split: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    for child_ids in households.values():
        # An unpaired sibling of a paired child counts as split: they are not with the same family.
        sets = {frozenset(volunteers_of.get(child_id, no_one)) for child_id in child_ids}
        if len(sets) > 1:
            split.append((tuple(sorted(child_ids)), tuple(sorted(frozenset().union(*sets)))))

    return [
        *(GapItem(Gap.VOLUNTEER_LEFT, (child_id,), vols) for child_id, vols in sorted(left)),
        *(GapItem(Gap.NO_CARING_FAMILY, (child_id,), ()) for child_id in sorted(no_family)),
        *(GapItem(Gap.NOT_COVERED, (child_id,), ()) for child_id in sorted(not_covered)),
        *(GapItem(Gap.SIBLINGS_SPLIT, ids, vols) for ids, vols in sorted(split)),
        *(GapItem(Gap.GIRL_WITH_MAN, (child_id,), vols) for child_id, vols in sorted(with_man)),
        *(GapItem(Gap.REVIEW_DUE, (child_id,), (vol,)) for child_id, vol in sorted(review_due)),
    ]
