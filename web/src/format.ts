// Dates in the pharmacy's time zone and money in rupees.
export const PHARMACY_TZ: string = import.meta.env.VITE_PHARMACY_TZ || 'Asia/Kolkata'

const dateFmt = new Intl.DateTimeFormat('en-IN', { day: 'numeric', month: 'short', year: 'numeric', timeZone: PHARMACY_TZ })
const dateTimeFmt = new Intl.DateTimeFormat('en-IN', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  timeZone: PHARMACY_TZ,
})
const isoDay = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: PHARMACY_TZ })
const inr = new Intl.NumberFormat('en-IN', { style: 'currency', currency: 'INR', minimumFractionDigits: 2 })

/** "2026-02-01" (a calendar date of the pharmacy) -> "1 Feb 2026". */
export function formatDate(value: string | null | undefined): string {
  if (!value) return '—'
  const [y, m, d] = value.split('-').map(Number)
  if (!y || !m || !d) return value
  // Noon UTC is the same calendar day in every time zone from UTC-11 to UTC+11.
  return dateFmt.format(new Date(Date.UTC(y, m - 1, d, 12)))
}

/** An ISO 8601 instant -> date and time in the pharmacy's time zone. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '—'
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? value : dateTimeFmt.format(date)
}

/** "1234.50" -> "₹1,234.50" (money is a decimal string; never parsed for arithmetic here). */
export function formatMoney(value: string | number | null | undefined): string {
  if (value == null || value === '') return '—'
  const n = typeof value === 'number' ? value : Number(value)
  return Number.isFinite(n) ? inr.format(n) : String(value)
}

export function formatPercent(value: number | string | null | undefined): string {
  if (value == null) return '—'
  const n = Number(value)
  return Number.isFinite(n) ? `${n.toFixed(2).replace(/\.00$/, '')}%` : String(value)
}

/** Today's date in the pharmacy's time zone, "YYYY-MM-DD", shifted by ``days``. */
export function pharmacyDay(days = 0, now: Date = new Date()): string {
  return isoDay.format(new Date(now.getTime() + days * 86_400_000))
}

/** A datetime-local input value ("2026-02-01T10:30", pharmacy time) -> ISO instant (UTC). */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined
  const [day, time = '00:00'] = value.split('T')
  const [y, m, d] = day.split('-').map(Number)
  const [hh, mm] = time.split(':').map(Number)
  const asUtc = Date.UTC(y, m - 1, d, hh, mm)
  // The zone's offset at that moment: what the wall clock shows there minus UTC.
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: PHARMACY_TZ,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  }).formatToParts(new Date(asUtc))
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value)
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'))
  return new Date(asUtc - (wall - asUtc)).toISOString().replace('.000Z', 'Z')
}

export function daysUntilLabel(days: number | null | undefined): string {
  if (days == null) return '—'
  if (days === 0) return 'Due today'
  if (days < 0) return `${-days} day${days === -1 ? '' : 's'} overdue`
  return `In ${days} day${days === 1 ? '' : 's'}`
}
