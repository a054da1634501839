"""Catalog keys for the values of domain enums, written out so that extraction finds them."""

from __future__ import annotations

from care.cases import Situation, Status
from care.children import Category, Colour, Schooling
from care.closing import ClosingReason
from care.invites import InviteState
from care.ledger import ProblemCode
from care.pairing import Gap, Rule
from care.reminders import CareDate
from care.roles import Gender, Role
from care.visits import Care, DateProblem, Health, Mode, Mood, Parents, RedFlag, Safety, Study
from locales import _ as mark

ROLE = {
    Role.VOLUNTEER: mark("role.volunteer"),
    Role.DIRECTOR: mark("role.director"),
    Role.SUPERVISOR: mark("role.supervisor"),
    Role.ADMIN: mark("role.admin"),
}
GENDER = {Gender.FEMALE: mark("gender.female"), Gender.MALE: mark("gender.male")}
INVITE_REFUSAL = {
    InviteState.UNKNOWN: mark("start.invite_unknown"),
    InviteState.USED: mark("start.invite_used"),
    InviteState.EXPIRED: mark("start.invite_expired"),
    InviteState.REVOKED: mark("start.invite_revoked"),
}

CATEGORY = {
    Category.ORPHAN: mark("category.orphan"),
    Category.UNSUPPORTED: mark("category.unsupported"),
    Category.LOW_INCOME_DISABLED_ILL: mark("category.low_income_disabled_ill"),
    Category.LOW_INCOME_OTHER: mark("category.low_income_other"),
    Category.OTHER_DIFFICULTY: mark("category.other_difficulty"),
    Category.LEFT_BEHIND: mark("category.left_behind"),
}
COLOUR = {
    Colour.RED: mark("colour.red"),
    Colour.YELLOW: mark("colour.yellow"),
    Colour.BLUE: mark("colour.blue"),
    Colour.GREEN: mark("colour.green"),
}
COLOUR_DOT = {Colour.RED: "🔴", Colour.YELLOW: "🟡", Colour.BLUE: "🔵", Colour.GREEN: "🟢"}

PROBLEM = {
    ProblemCode.UNSUPPORTED_FORMAT: mark("ledger.problem.unsupported_format"),
    ProblemCode.UNREADABLE_FILE: mark("ledger.problem.unreadable_file"),
    ProblemCode.NO_HEADER: mark("ledger.problem.no_header"),
    ProblemCode.MISSING_COLUMNS: mark("ledger.problem.missing_columns"),
    ProblemCode.DUPLICATE_COLUMNS: mark("ledger.problem.duplicate_columns"),
    ProblemCode.FILE_TOO_BIG: mark("ledger.problem.file_too_big"),
    ProblemCode.UNPACKED_TOO_BIG: mark("ledger.problem.unpacked_too_big"),
    ProblemCode.TOO_MANY_ROWS: mark("ledger.problem.too_many_rows"),
    ProblemCode.TOO_MANY_COLUMNS: mark("ledger.problem.too_many_columns"),
    ProblemCode.SHARED_STRINGS_TOO_BIG: mark("ledger.problem.shared_strings_too_big"),
    ProblemCode.REQUIRED: mark("ledger.problem.required"),
    ProblemCode.ID_FORMAT: mark("ledger.problem.id_format"),
    ProblemCode.ID_CHECKSUM: mark("ledger.problem.id_checksum"),
    ProblemCode.ID_BIRTH_DATE: mark("ledger.problem.id_birth_date"),
    ProblemCode.ID_STORED_AS_NUMBER: mark("ledger.problem.id_stored_as_number"),
    ProblemCode.ID_BIRTH_MISMATCH: mark("ledger.problem.id_birth_mismatch"),
    ProblemCode.ID_GENDER_MISMATCH: mark("ledger.problem.id_gender_mismatch"),
    ProblemCode.DUPLICATE_ID: mark("ledger.problem.duplicate_id"),
    ProblemCode.DATE_FORMAT: mark("ledger.problem.date_format"),
    ProblemCode.BIRTH_IN_FUTURE: mark("ledger.problem.birth_in_future"),
    ProblemCode.TOO_OLD_FOR_CATEGORY: mark("ledger.problem.too_old_for_category"),
    ProblemCode.UNKNOWN_GENDER: mark("ledger.problem.unknown_gender"),
    ProblemCode.UNKNOWN_CATEGORY: mark("ledger.problem.unknown_category"),
    ProblemCode.UNKNOWN_COLOUR: mark("ledger.problem.unknown_colour"),
    ProblemCode.UNKNOWN_CONSENT: mark("ledger.problem.unknown_consent"),
    ProblemCode.PHONE_FORMAT: mark("ledger.problem.phone_format"),
    ProblemCode.LUNAR_BIRTHDAY_FORMAT: mark("ledger.problem.lunar_birthday_format"),
    ProblemCode.LUNAR_BIRTHDAY_IMPOSSIBLE: mark("ledger.problem.lunar_birthday_impossible"),
    ProblemCode.TOO_LONG: mark("ledger.problem.too_long"),
    ProblemCode.AREA_NAME: mark("ledger.problem.area_name"),
    ProblemCode.CONTROL_CHARACTER: mark("ledger.problem.control_character"),
    ProblemCode.FORMULA: mark("ledger.problem.formula"),
    ProblemCode.AREA_OUTSIDE: mark("ledger.problem.area_outside"),
    ProblemCode.RECORD_CLOSED: mark("ledger.problem.record_closed"),
}

SCHOOLING = {
    Schooling.IN_SCHOOL: mark("schooling.in_school"),
    Schooling.DROPPED_OUT: mark("schooling.dropped_out"),
    Schooling.SUSPENDED: mark("schooling.suspended"),
    Schooling.PRESCHOOL: mark("schooling.preschool"),
    Schooling.GRADUATED: mark("schooling.graduated"),
}

RULE = {
    Rule.SIBLINGS_TOGETHER: mark("rule.siblings_together"),
    Rule.GIRL_FEMALE_VOLUNTEER: mark("rule.girl_female_volunteer"),
    Rule.SAME_TOWN: mark("rule.same_town"),
    Rule.ALREADY_PAIRED: mark("rule.already_paired"),
}
GAP = {
    Gap.NO_CARING_FAMILY: mark("gap.no_caring_family"),
    Gap.SIBLINGS_SPLIT: mark("gap.siblings_split"),
    Gap.GIRL_WITH_MAN: mark("gap.girl_with_man"),
    Gap.REVIEW_DUE: mark("gap.review_due"),
}

MODE = {
    Mode.HOME: mark("mode.home"),
    Mode.PHONE: mark("mode.phone"),
    Mode.SCHOOL: mark("mode.school"),
    Mode.OTHER: mark("mode.other"),
}
HEALTH = {
    Health.GOOD: mark("health.good"),
    Health.UNWELL: mark("health.unwell"),
    Health.SERIOUS: mark("health.serious"),
}
MOOD = {
    Mood.GOOD: mark("mood.good"),
    Mood.LOW: mark("mood.low"),
    Mood.WORRYING: mark("mood.worrying"),
}
STUDY = {
    Study.NORMAL: mark("study.normal"),
    Study.STRUGGLING: mark("study.struggling"),
    Study.ABSENT: mark("study.absent"),
    Study.DROPOUT_RISK: mark("study.dropout_risk"),
    Study.NOT_AT_SCHOOL_AGE: mark("study.not_school_age"),
}
CARE = {
    Care.GOOD: mark("care.good"),
    Care.WEAK: mark("care.weak"),
    Care.ALONE: mark("care.alone"),
    Care.HARM: mark("care.harm"),
}
PARENTS = {
    Parents.CONTACTED: mark("parents.contacted"),
    Parents.NO_CONTACT: mark("parents.no_contact"),
}
SAFETY = {
    Safety.DROWNING: mark("safety.drowning"),
    Safety.TRAFFIC: mark("safety.traffic"),
    Safety.FIRE_ELECTRICITY: mark("safety.fire_electricity"),
    Safety.ONLINE: mark("safety.online"),
    Safety.BULLYING: mark("safety.bullying"),
    Safety.SEXUAL_ABUSE: mark("safety.sexual_abuse"),
}
RED_FLAG = {
    RedFlag.LIVING_ALONE: mark("red_flag.living_alone"),
    RedFlag.DROPOUT_RISK: mark("red_flag.dropout_risk"),
    RedFlag.HARM_OR_NEGLECT: mark("red_flag.harm_or_neglect"),
}
DATE_PROBLEM = {
    DateProblem.FUTURE: mark("checkin.date_future"),
    DateProblem.BEFORE_PAIRING: mark("checkin.date_before_pairing"),
    DateProblem.TOO_OLD: mark("checkin.date_too_old"),
}

SITUATION = {
    Situation.LIVING_ALONE: mark("situation.living_alone"),
    Situation.MISSING: mark("situation.missing"),
    Situation.ABUSE: mark("situation.abuse"),
    Situation.SEXUAL_HARM: mark("situation.sexual_harm"),
    Situation.SELF_HARM: mark("situation.self_harm"),
    Situation.INJURY: mark("situation.injury"),
    Situation.ABANDONED: mark("situation.abandoned"),
    Situation.BEGGING: mark("situation.begging"),
    Situation.GUARDIAN_UNABLE: mark("situation.guardian_unable"),
    Situation.DROPOUT: mark("situation.dropout"),
    Situation.OTHER: mark("situation.other"),
}
STATUS = {
    Status.OPEN: mark("status.open"),
    Status.ACKNOWLEDGED: mark("status.acknowledged"),
    Status.RESOLVED: mark("status.resolved"),
}
EVENT = {
    "reported": mark("event.reported"),
    "alerted": mark("event.alerted"),
    "escalated": mark("event.escalated"),
    "undeliverable": mark("event.undeliverable"),
    "viewed": mark("event.viewed"),
    "acknowledged": mark("event.acknowledged"),
    "resolved": mark("event.resolved"),
}
CARE_DATE = {
    CareDate.SPRING_FESTIVAL: mark("care_date.spring_festival"),
    CareDate.LANTERN: mark("care_date.lantern"),
    CareDate.CHILDRENS_DAY: mark("care_date.childrens_day"),
    CareDate.MID_AUTUMN: mark("care_date.mid_autumn"),
    CareDate.WINTER_HOLIDAY: mark("care_date.winter_holiday"),
    CareDate.SUMMER_HOLIDAY: mark("care_date.summer_holiday"),
    CareDate.TERM_START: mark("care_date.term_start"),
}

CLOSING_REASON = {
    ClosingReason.AGED_OUT: mark("closing.reason.aged_out"),
    ClosingReason.PARENTS_BACK: mark("closing.reason.parents_back"),
    ClosingReason.MOVED_AWAY: mark("closing.reason.moved_away"),
    ClosingReason.NOT_ELIGIBLE: mark("closing.reason.not_eligible"),
    ClosingReason.DIED: mark("closing.reason.died"),
}
