import { activeDays, dailySeries, dailySummary, dailyTotals, dayOf, parseAdherenceDays, parseThreshold, shortDay, sumMoney, thresholdPercent } from './reports'
import { pdcPercent } from './adherence'

const days = [
  { date: '2026-02-10', contacted: 2, converted: 0, conversion_value: '0.00' },
  { date: '2026-02-11', contacted: 0, converted: 0, conversion_value: '0.00' },
  { date: '2026-02-12', contacted: 3, converted: 2, conversion_value: '240.50' },
  { date: '2026-02-13', contacted: 1, converted: 1, conversion_value: '99.95' },
]

describe('the daily conversion series', () => {
  it('becomes one label and one value per day, oldest first, zeros kept', () => {
    expect(dailySeries(days)).toEqual({
      labels: ['10 Feb', '11 Feb', '12 Feb', '13 Feb'],
      contacted: [2, 0, 3, 1],
      converted: [0, 0, 2, 1],
    })
    expect(dailySeries(undefined)).toEqual({ labels: [], contacted: [], converted: [] })
  })

  it('adds up, money in paise', () => {
    expect(dailyTotals(days)).toEqual({ contacted: 6, converted: 3, value: '340.45' })
    expect(sumMoney(['0.10', '0.20', '1', null, 'x'])).toBe('1.30')
    expect(sumMoney(['-5.50', '2.25'])).toBe('-3.25')
  })

  it('says in words what the chart shows', () => {
    expect(dailySummary(days)).toBe('Over 4 days: 6 contacted, 3 converted (₹340.45). Most conversions: 12 Feb, 2 (₹240.50).')
    expect(dailySummary([{ date: '2026-02-11', contacted: 0, converted: 0, conversion_value: '0.00' }])).toBe(
      'Over 1 day: 0 contacted, 0 converted (₹0.00).',
    )
    expect(dailySummary([])).toBe('No day in this period yet.')
  })

  it('lists only the days with activity in the table, and finds a day', () => {
    expect(activeDays(days).map((d) => d.date)).toEqual(['2026-02-10', '2026-02-12', '2026-02-13'])
    expect(dayOf(days, '2026-02-12')?.converted).toBe(2)
    expect(dayOf(days, '2026-03-01')).toBeNull()
    expect(shortDay('2026-01-01')).toBe('1 Jan')
  })
})

describe('adherence percentages', () => {
  it('shows a PDC decimal string as a whole percentage', () => {
    expect(pdcPercent('0.58')).toBe('58%')
    expect(pdcPercent('0.795')).toBe('80%')
    expect(thresholdPercent(0.7)).toBe('70%')
    expect(thresholdPercent(0.9)).toBe('90%')
  })

  it('reads the threshold and period from the address bar, or the defaults', () => {
    expect(parseThreshold('0.7')).toBe(0.7)
    expect(parseThreshold('0.75')).toBe(0.8)
    expect(parseThreshold('')).toBe(0.8)
    expect(parseAdherenceDays('365')).toBe(365)
    expect(parseAdherenceDays('30')).toBe(180)
  })
})
