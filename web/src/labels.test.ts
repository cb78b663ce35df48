import { CATEGORY, CONTACT_STATUS, label } from './labels'

describe('labels', () => {
  it('uses the guide’s words for categories', () => {
    expect(Object.values(CATEGORY)).toEqual(['Contact Sheet', 'First Time Prescription', 'Regular Branded', 'Generic Informed'])
  })
  it('falls back to the raw value for something new, and a dash for nothing', () => {
    expect(label(CONTACT_STATUS, 'yellow')).toMatch(/Yellow/)
    expect(label(CONTACT_STATUS, 'archived')).toBe('archived')
    expect(label(CONTACT_STATUS, null)).toBe('—')
  })
})

describe('consent and category-history labels', () => {
  it('has a word for every consent state and category source', async () => {
    const { CONSENT_STATE, CATEGORY_SOURCE } = await import('./labels')
    expect(CONSENT_STATE).toEqual({ granted: 'granted', declined: 'declined', unknown: 'not asked' })
    expect(Object.keys(CATEGORY_SOURCE)).toEqual(['bill', 'staff'])
  })
})
