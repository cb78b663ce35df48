"""Reporting's one registry: every event type upserts a fact and moves the per-day rollup.

Reporting's use cases already take what a handler takes (session, typed event, context) and
do nothing but record a fact, so each one is its own handler; the rules, and why they are
order-free, are in ``domain.py``.
"""

from __future__ import annotations

from shared import events
from shared.consumer import Handler

from . import domain

HANDLERS: dict[str, Handler] = {
    events.BillCreated.TYPE: domain.record_bill,
    events.ContactsUploaded.TYPE: domain.record_upload,
    events.ContactStatusChanged.TYPE: domain.record_status_change,
    events.ContactConverted.TYPE: domain.record_conversion,
    events.ContactInteractionLogged.TYPE: domain.record_interaction,
    events.CustomerUpserted.TYPE: domain.record_customer,
    events.PurchaseRecorded.TYPE: domain.record_purchase,
    events.RefillReminderCreated.TYPE: domain.record_refill_reminder,
    events.RefillReminderUpdated.TYPE: domain.record_refill_outcome,
    events.StaffCreated.TYPE: domain.record_staff,
    events.StaffUpdated.TYPE: domain.record_staff,
    events.ConsentChanged.TYPE: domain.record_consent,
}

#: Before a batch's handlers: lock the facts they will lock, in one order (no deadlocks between replicas).
PREPARE = domain.lock_facts
