// What the report panels compute from the API's answers: the daily series for the chart and its
// text alternative, totals of money strings, the adherence threshold choices.
import type { Schemas } from '../api/client'
import { formatMoney } from '../format'

type Day = Schemas['ConversionDay']

const shortDayFmt = new Intl.DateTimeFormat('en-IN', { day: 'numeric', month: 'short', timeZone: 'UTC' })

/** "2026-02-12" -> "12 Feb" (an axis label; the date is a calendar day, not an instant). */
export function shortDay(value: string | null | undefined): string {
  if (!value) return '—'
  const [y, m, d] = value.split('-').map(Number)
  if (!y || !m || !d) return value
  return shortDayFmt.format(new Date(Date.UTC(y, m - 1, d, 12)))
}

/** Money strings ("240.50") added in paise, so no float rounding creeps in -> "240.50". */
export function sumMoney(values: (string | null | undefined)[]): string {
  let paise = 0
  for (const value of values) {
    const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec((value ?? '').trim())
    if (!match) continue
    const amount = Number(match[2]) * 100 + Number((match[3] ?? '').padEnd(2, '0'))
    paise += match[1] ? -amount : amount
  }
  const sign = paise < 0 ? '-' : ''
  const abs = Math.abs(paise)
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}

export interface DailySeries {
  labels: string[]
  contacted: number[]
  converted: number[]
}

/** The chart's data: one label and one bar per day, oldest first, zeros kept. */
export function dailySeries(days: Day[] | null | undefined): DailySeries {
  const rows = days ?? []
  return {
    labels: rows.map((d) => shortDay(d.date)),
    contacted: rows.map((d) => d.contacted ?? 0),
    converted: rows.map((d) => d.converted ?? 0),
  }
}

export interface DailyTotals {
  contacted: number
  converted: number
  value: string
}

export function dailyTotals(days: Day[] | null | undefined): DailyTotals {
  const rows = days ?? []
  return {
    contacted: rows.reduce((n, d) => n + (d.contacted ?? 0), 0),
    converted: rows.reduce((n, d) => n + (d.converted ?? 0), 0),
    value: sumMoney(rows.map((d) => d.conversion_value)),
  }
}

/** The days with something to report (the per-day table leaves out empty days). */
export function activeDays(days: Day[] | null | undefined): Day[] {
  return (days ?? []).filter((d) => (d.contacted ?? 0) > 0 || (d.converted ?? 0) > 0)
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** The chart in words: "Over 7 days: 5 contacted, 1 converted (₹240.00). Most conversions: 12 Feb, 1 (₹240.00)." */
export function dailySummary(days: Day[] | null | undefined): string {
  const rows = days ?? []
  if (!rows.length) return 'No day in this period yet.'
  const t = dailyTotals(rows)
  let text = `Over ${plural(rows.length, 'day')}: ${t.contacted} contacted, ${t.converted} converted (${formatMoney(t.value)}).`
  if (t.converted > 0) {
    const best = rows.reduce((a, b) => ((b.converted ?? 0) > (a.converted ?? 0) ? b : a))
    text += ` Most conversions: ${shortDay(best.date)}, ${best.converted} (${formatMoney(best.conversion_value)}).`
  }
  return text
}

/** The row of one day ("YYYY-MM-DD"), or null when the series does not have it. */
export function dayOf(days: Day[] | null | undefined, date: string): Day | null {
  return (days ?? []).find((d) => d.date === date) ?? null
}

/** Adherence thresholds offered (proportion of days covered below this). */
export const ADHERENCE_THRESHOLDS = [0.7, 0.8, 0.9] as const
export const ADHERENCE_DAYS = [90, 180, 365] as const

/** 0.8 -> "80%". */
export function thresholdPercent(threshold: number): string {
  return `${Math.round(threshold * 100)}%`
}

/** A threshold from the address bar ("0.7"), or the usual 80 % when it is not one offered. */
export function parseThreshold(value: string | null | undefined): number {
  const n = Number(value)
  return (ADHERENCE_THRESHOLDS as readonly number[]).includes(n) ? n : 0.8
}

export function parseAdherenceDays(value: string | null | undefined): 90 | 180 | 365 {
  const n = Number(value)
  return (ADHERENCE_DAYS as readonly number[]).includes(n) ? (n as 90 | 180 | 365) : 180
}
