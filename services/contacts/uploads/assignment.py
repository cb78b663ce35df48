"""Who an upload's new contacts go to: the chosen (or every active) staff, least loaded first,
dealt round-robin so that within one upload counts differ by at most one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.errors import ValidationFailed

from ..models import CONVERTED, ContactRecord, StaffMember


def choose_staff(session: Session, assign_to: list[int] | None) -> list[int]:
    """The staff ids an upload assigns to: the chosen ones (each an active user), else every
    active user with the staff role. ValidationFailed when there is nobody."""
    if assign_to:
        wanted = list(dict.fromkeys(assign_to))
        active = set(
            session.scalars(
                select(StaffMember.staff_id).where(StaffMember.staff_id.in_(wanted), StaffMember.active.is_(True))
            )
        )
        missing = [staff_id for staff_id in wanted if staff_id not in active]
        if missing:
            raise ValidationFailed(
                "contacts can only be assigned to active staff members",
                errors={"assign_to": [f"{s} is not an active staff member" for s in missing]},
            )
        return wanted
    staff = list(
        session.scalars(
            select(StaffMember.staff_id)
            .where(StaffMember.active.is_(True), StaffMember.role == "staff")
            .order_by(StaffMember.staff_id)
        )
    )
    if not staff:
        raise ValidationFailed(
            "there is no active staff member to assign the contacts to: add staff users or choose them with assign_to",
            errors={"assign_to": ["no active staff members"]},
        )
    return staff


def least_loaded_first(session: Session, staff_ids: list[int]) -> list[int]:
    """``staff_ids`` ordered by open load (contacts assigned and not converted), then id."""

    def per_staff(*conditions: Any) -> dict[int, int]:
        rows = session.execute(
            select(ContactRecord.assigned_to, func.count())
            .where(ContactRecord.assigned_to.in_(staff_ids), *conditions)
            .group_by(ContactRecord.assigned_to)
        ).all()
        return {staff_id: count for staff_id, count in rows if staff_id is not None}

    # Two index-only counts (all assigned, converted) rather than one pass over the rows.
    assigned, converted = per_staff(), per_staff(ContactRecord.status == CONVERTED)
    return sorted(staff_ids, key=lambda staff_id: (assigned.get(staff_id, 0) - converted.get(staff_id, 0), staff_id))


class RoundRobin:
    """Deals new contacts to staff in a fixed order (least loaded first), one each in turn."""

    def __init__(self, staff_order: list[int]) -> None:
        self.staff_order = staff_order
        self.dealt = 0

    def deal(self, count: int) -> list[int]:
        """The staff ids of the next ``count`` contacts."""
        order, start, size = self.staff_order, self.dealt, len(self.staff_order)
        self.dealt += count
        return [order[(start + n) % size] for n in range(count)]

    def shares(self) -> dict[str, int]:
        """``{"<staff_id>": n}`` of what was dealt (staff who got nothing are left out)."""
        size = len(self.staff_order)
        shares = {}
        for position, staff_id in enumerate(self.staff_order):
            # Dealt from the least loaded: the first (dealt % size) staff got one more.
            share = self.dealt // size + (1 if position < self.dealt % size else 0)
            if share:
                shares[staff_id] = share
        return {str(staff_id): n for staff_id, n in sorted(shares.items())}
