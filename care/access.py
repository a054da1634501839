"""Who may see and change which children, and which of a child's fields they are shown."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from care.roles import Role, Viewer


@dataclass(frozen=True)
class ChildScope:
    """Children of an area (and below), or only the children paired with one volunteer."""

    area_path: str | None = None
    volunteer_id: int | None = None


def child_scope(viewer: Viewer) -> ChildScope:
    if viewer.role == Role.VOLUNTEER:
        return ChildScope(volunteer_id=viewer.person_id)
    return ChildScope(area_path=viewer.area_path)


class Detail(StrEnum):
    """How much of a child record a viewer sees."""

    PAIRED = "paired"  # a volunteer: what a visit needs; no ID, benefit category or diagnoses
    VILLAGE = "village"  # a director: the record, with the ID number masked
    FULL = "full"  # supervisors and admins


def detail_for(viewer: Viewer) -> Detail:
    if viewer.role == Role.VOLUNTEER:
        return Detail.PAIRED
    return Detail.VILLAGE if viewer.role == Role.DIRECTOR else Detail.FULL


def may_edit_children(viewer: Viewer) -> bool:
    """Directors keep the village ledger; supervisors and admins their area's."""
    return viewer.at_least(Role.DIRECTOR)


def may_pair(viewer: Viewer) -> bool:
    return viewer.at_least(Role.SUPERVISOR)
