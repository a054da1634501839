"""Hazard reports (强制报告): the situations, who is alerted, and the escalation ladder.

Pure: no Telegram, no SQL. The ladder's times are configuration; the steps are fixed by what
DESIGN.md asks: the town's supervisors and the village's director at once; the town's
supervisors again and the county's admins after 10 minutes; the alert chat, marked
unacknowledged, after 30 minutes and every 30 minutes after that until someone acknowledges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

from care.visits import RedFlag


class Situation(StrEnum):
    """The mandatory-report situations (强制报告情形)."""

    LIVING_ALONE = "living_alone"  # 脱离监护单独居住
    MISSING = "missing"  # 失踪
    ABUSE = "abuse"  # 疑似遭受家庭暴力/欺凌/虐待/不法侵害
    SEXUAL_HARM = "sexual_harm"
    SELF_HARM = "self_harm"  # 自杀/自残/中毒
    INJURY = "injury"  # 意外伤害
    ABANDONED = "abandoned"  # 遗弃/长期无人照料
    BEGGING = "begging"  # 组织乞讨
    GUARDIAN_UNABLE = "guardian_unable"  # 监护人丧失监护能力/不履行监护职责
    DROPOUT = "dropout"  # 辍学
    OTHER = "other"


# The situation a check-in's red flag is reported as, the gravest first (the report a visit
# leads to names the first of its flags in this order); signs of harm are suspected harm.
FROM_RED_FLAG = {
    RedFlag.HARM_OR_NEGLECT: Situation.ABUSE,
    RedFlag.LIVING_ALONE: Situation.LIVING_ALONE,
    RedFlag.DROPOUT_RISK: Situation.DROPOUT,
}
# The check-in question whose answer raised the flag (its note is the volunteer's own words).
RED_FLAG_QUESTION = {
    RedFlag.HARM_OR_NEGLECT: "care",
    RedFlag.LIVING_ALONE: "care",
    RedFlag.DROPOUT_RISK: "study",
}


class Status(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Audience(StrEnum):
    """Who an alert goes to, by role and place relative to the child's village."""

    TOWN_SUPERVISORS = "town_supervisors"
    VILLAGE_DIRECTORS = "village_directors"
    COUNTY_ADMINS = "county_admins"
    ALERT_CHAT = "alert_chat"


class Step(IntEnum):
    FIRST = 0
    HIGHER = 1
    ALERT_CHAT = 2  # repeated until acknowledged


AUDIENCES: dict[Step, tuple[Audience, ...]] = {
    Step.FIRST: (Audience.TOWN_SUPERVISORS, Audience.VILLAGE_DIRECTORS, Audience.ALERT_CHAT),
    Step.HIGHER: (Audience.TOWN_SUPERVISORS, Audience.COUNTY_ADMINS),
    Step.ALERT_CHAT: (Audience.ALERT_CHAT,),
}


@dataclass(frozen=True)
class Ladder:
    """When each round of alerts is due. Round 0 goes out with the report; round 1 (the higher
    step) after `higher_after`; round 2 (the alert chat) after `alert_chat_after`; every round
    after that `repeat_every` later, until someone acknowledges."""

    higher_after: timedelta = timedelta(minutes=10)
    alert_chat_after: timedelta = timedelta(minutes=30)
    repeat_every: timedelta = timedelta(minutes=30)

    @staticmethod
    def step(round_: int) -> Step:
        return Step(min(round_, Step.ALERT_CHAT))

    def due(self, reported: datetime, round_: int) -> datetime:
        if round_ == 0:
            return reported
        if round_ == 1:
            return reported + self.higher_after
        return reported + self.alert_chat_after + self.repeat_every * (round_ - 2)

    def latest_due(self, reported: datetime, after: int, now: datetime) -> int:
        """The round to plan after round `after`: the next one, or, when more are due (the
        bot was down), the latest of them; the rounds missed collapse into that one."""
        round_ = after + 1
        while self.due(reported, round_ + 1) <= now:
            round_ += 1
        return round_

    def audiences(self, first: int, last: int) -> list[Audience]:
        """Who rounds `first` to `last` reach together, each audience once."""
        found: list[Audience] = []
        for round_ in range(first, last + 1):
            found += [a for a in AUDIENCES[self.step(round_)] if a not in found]
        return found


def case_number(case_id: int, reported: datetime) -> str:
    """A short number to say on the phone: year and a sequence, e.g. 2026-0042."""
    return f"{reported.year}-{case_id:04d}"
