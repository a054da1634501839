"""Catalog keys for the values of domain enums, written out so that extraction finds them."""

from __future__ import annotations

from care.roles import Gender, Role
from locales import _ as mark
from storage.invites import InviteState

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
}
