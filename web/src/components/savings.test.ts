import { savingsText, totalSavings } from './savings'

describe('generic savings', () => {
  it('shows a purchase’s savings in rupees with the branded price', () => {
    expect(savingsText('40.00', '100.00')).toBe('₹40.00 (branded ₹100.00)')
    expect(savingsText('1234.5')).toBe('₹1,234.50')
    expect(savingsText('0.00', '50.00')).toBe('₹0.00 (branded ₹50.00)')
  })
  it('shows a dash without a branded price', () => {
    expect(savingsText(null, null)).toBe('—')
    expect(savingsText(undefined)).toBe('—')
  })
  it('adds a bill’s savings exactly, and has none when no item has any', () => {
    expect(totalSavings([{ savings: '0.10' }, { savings: '0.20' }, { savings: null }])).toBe('0.30')
    expect(totalSavings([{ savings: '90.00' }, { savings: '10.55' }])).toBe('100.55')
    expect(totalSavings([{ savings: null }, {}])).toBeNull()
  })
})
