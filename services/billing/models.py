"""Billing's tables: bills and their items, plus its outbox and idempotency keys."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.clock import utcnow
from shared.db import UTCDateTime
from shared.idempotency import IdempotencyKeys
from shared.messaging import MessagingTables
from shared.money import generic_savings

SOURCE = "/services/billing"


class Base(DeclarativeBase):
    pass


messaging = MessagingTables(Base.metadata, source=SOURCE)
idempotency = IdempotencyKeys(Base.metadata)


class Bill(Base):
    __tablename__ = "bills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    bill_date: Mapped[dt.date] = mapped_column(Date, index=True)
    customer_phone: Mapped[str] = mapped_column(String(20), index=True)
    customer_name: Mapped[str | None] = mapped_column(String(200))
    customer_category: Mapped[str] = mapped_column(String(40))
    was_contacted_before: Mapped[bool] = mapped_column(Boolean, default=False)
    visited_no_purchase: Mapped[bool] = mapped_column(Boolean, default=False)
    total_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    items: Mapped[list[BillItem]] = relationship(
        back_populates="bill", order_by="BillItem.line_no", cascade="all, delete-orphan", lazy="selectin"
    )


class BillItem(Base):
    __tablename__ = "bill_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    medicine_name: Mapped[str] = mapped_column(String(200))
    is_generic: Mapped[bool] = mapped_column(Boolean, default=False)
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # Generics only: what the branded equivalent of the same quantity costs (savings = it − amount).
    branded_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    duration_days: Mapped[int | None] = mapped_column(Integer)

    bill: Mapped[Bill] = relationship(back_populates="items")

    @property
    def savings(self) -> Decimal | None:
        """What the generic saved against its branded equivalent (None without a branded price)."""
        return generic_savings(self.is_generic, self.amount, self.branded_price)
