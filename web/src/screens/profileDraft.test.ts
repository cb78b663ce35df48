import { profileChanges, profileDraft } from './profileDraft'

describe('the profile form', () => {
  const customer = { id: 1, name: 'Asha', phone: '+919876543210', age: 40, chronic_conditions: ['Diabetes'], allergies: [], special_notes: 'Calls after 6' }
  it('sends only what changed', () => {
    const draft = { ...profileDraft(customer), allergies: ['Penicillin'], special_notes: '', age: '41' }
    expect(profileChanges(customer, draft)).toEqual({ allergies: ['Penicillin'], special_notes: null, age: 41 })
  })
  it('sends nothing when nothing changed', () => {
    expect(profileChanges(customer, profileDraft(customer))).toEqual({})
  })
})
