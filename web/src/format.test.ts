import { daysUntilLabel, formatDate, formatDateTime, formatMoney, localInputToIso, pharmacyDay } from './format'

describe('format', () => {
  it('shows money in rupees with two places', () => {
    expect(formatMoney('1234.5')).toBe('₹1,234.50')
    expect(formatMoney('100000.00')).toBe('₹1,00,000.00')
    expect(formatMoney(null)).toBe('—')
  })

  it('shows a calendar date as that day whatever the zone', () => {
    expect(formatDate('2026-02-26')).toBe('26 Feb 2026')
  })

  it('shows instants in the pharmacy time zone (Asia/Kolkata)', () => {
    // 20:00 UTC is 01:30 the next day in India.
    expect(formatDateTime('2026-02-01T20:00:00Z')).toMatch(/2 Feb 2026.*1:30/)
    expect(pharmacyDay(0, new Date('2026-02-01T20:00:00Z'))).toBe('2026-02-02')
  })

  it('turns a pharmacy wall-clock time into UTC', () => {
    expect(localInputToIso('2026-03-05T10:30')).toBe('2026-03-05T05:00:00Z')
    expect(localInputToIso('')).toBeUndefined()
  })

  it('says how far a refill is', () => {
    expect(daysUntilLabel(0)).toBe('Due today')
    expect(daysUntilLabel(-2)).toBe('2 days overdue')
    expect(daysUntilLabel(1)).toBe('In 1 day')
  })
})
