import type { BillBody } from '../api/client'
import type { Category } from '../labels'

export interface BillLine {
  key: number
  medicine_name: string
  quantity: string
  amount: string
  is_generic: boolean
  /** Generics only: what the branded equivalent of the same quantity costs. */
  branded_price: string
  duration_days: string
}

export interface BillDraft {
  customer_phone: string
  customer_name: string
  customer_category: Category | ''
  was_contacted_before: boolean
  visited_no_purchase: boolean
  items: BillLine[]
}

let nextKey = 1
export function emptyLine(): BillLine {
  return { key: nextKey++, medicine_name: '', quantity: '1', amount: '', is_generic: false, branded_price: '', duration_days: '' }
}

export function emptyBill(): BillDraft {
  return { customer_phone: '', customer_name: '', customer_category: '', was_contacted_before: false, visited_no_purchase: false, items: [emptyLine()] }
}

/** The POST /bills body; a visit without purchase carries no items. Blank lines are left out. */
export function billBody(d: BillDraft): BillBody {
  const items = d.visited_no_purchase
    ? []
    : d.items
        .filter((l) => l.medicine_name.trim() || l.amount.trim())
        .map((l) => ({
          medicine_name: l.medicine_name.trim(),
          quantity: Number(l.quantity),
          amount: l.amount.trim(),
          is_generic: l.is_generic,
          // The API refuses a branded price on a branded item; an unticked line drops it.
          branded_price: l.is_generic && l.branded_price.trim() ? l.branded_price.trim() : undefined,
          duration_days: l.duration_days.trim() ? Number(l.duration_days) : undefined,
        }))
  return {
    customer_phone: d.customer_phone.trim(),
    customer_name: d.customer_name.trim() || undefined,
    customer_category: d.customer_category as Category,
    was_contacted_before: d.was_contacted_before,
    visited_no_purchase: d.visited_no_purchase,
    items,
  }
}

/** The bill's total as shown while typing (the server computes the real one). */
export function draftTotal(d: BillDraft): number {
  if (d.visited_no_purchase) return 0
  return d.items.reduce((sum, l) => sum + (Number(l.amount) || 0), 0)
}
