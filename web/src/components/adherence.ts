// The proportion of days covered (PDC) as the profile shows it.
export const PDC_THRESHOLD = 0.8

/** 0.756 or "0.756" -> "76%"; nothing -> "—". */
export function pdcPercent(pdc: number | string | null | undefined): string {
  if (pdc == null || pdc === '') return '—'
  const n = Number(pdc)
  return Number.isFinite(n) ? `${Math.round(n * 100)}%` : String(pdc)
}

/** Below 80 % of days covered: the customer may be missing doses. */
export function isLowPdc(pdc: number | string | null | undefined): boolean {
  if (pdc == null || pdc === '') return false
  const n = Number(pdc)
  return Number.isFinite(n) && n < PDC_THRESHOLD
}
