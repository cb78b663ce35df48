import { isLowPdc, pdcPercent } from './adherence'

describe('adherence (PDC)', () => {
  it('shows the proportion of days covered as a whole percentage', () => {
    expect(pdcPercent(0.756)).toBe('76%')
    expect(pdcPercent('1.00')).toBe('100%')
    expect(pdcPercent(0)).toBe('0%')
    expect(pdcPercent(null)).toBe('—')
  })
  it('highlights below 80 % only', () => {
    expect(isLowPdc(0.79)).toBe(true)
    expect(isLowPdc('0.5')).toBe(true)
    expect(isLowPdc(0.8)).toBe(false)
    expect(isLowPdc(1)).toBe(false)
    expect(isLowPdc(null)).toBe(false)
  })
})
