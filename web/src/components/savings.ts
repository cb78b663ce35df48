// What choosing a generic saved, in rupees.
import { formatMoney } from '../format'

/** A purchase's savings: "₹40.00 (branded ₹100.00)", "—" without a branded price. */
export function savingsText(savings: string | null | undefined, brandedPrice?: string | null): string {
  if (savings == null || savings === '') return '—'
  return brandedPrice ? `${formatMoney(savings)} (branded ${formatMoney(brandedPrice)})` : formatMoney(savings)
}

/** The sum of the savings of a bill's items (decimal strings, added in paise to stay exact). */
export function totalSavings(items: { savings?: string | null }[]): string | null {
  const withSavings = items.filter((i) => i.savings != null && i.savings !== '')
  if (!withSavings.length) return null
  const paise = withSavings.reduce((sum, i) => sum + Math.round(Number(i.savings) * 100), 0)
  return (paise / 100).toFixed(2)
}
