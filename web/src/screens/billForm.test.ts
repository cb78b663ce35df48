import { billBody, draftTotal, emptyBill, emptyLine } from './billForm'

describe('the bill form', () => {
  it('sends the lines with numbers, durations only when given, and leaves blank lines out', () => {
    const draft = { ...emptyBill(), customer_phone: ' 98765 43210 ', customer_category: 'first_time_prescription' as const }
    draft.items = [
      { ...emptyLine(), medicine_name: 'Metformin 500', quantity: '2', amount: '120.50', duration_days: '30' },
      { ...emptyLine(), medicine_name: 'Cough syrup', amount: '80.00' },
      emptyLine(),
    ]
    const body = billBody(draft)
    expect(body.customer_phone).toBe('98765 43210')
    expect(body.items).toEqual([
      { medicine_name: 'Metformin 500', quantity: 2, amount: '120.50', is_generic: false, duration_days: 30 },
      { medicine_name: 'Cough syrup', quantity: 1, amount: '80.00', is_generic: false, duration_days: undefined },
    ])
    expect(draftTotal(draft)).toBeCloseTo(200.5)
  })

  it('sends no items for a visit without purchase', () => {
    const draft = { ...emptyBill(), visited_no_purchase: true }
    draft.items = [{ ...emptyLine(), medicine_name: 'x', amount: '10' }]
    expect(billBody(draft).items).toEqual([])
    expect(draftTotal(draft)).toBe(0)
  })
})

describe('the branded price of a generic line', () => {
  it('is sent for a generic line and never for a branded one (the API refuses it there)', () => {
    const draft = { ...emptyBill(), customer_phone: '9876543210', customer_category: 'generic_informed' as const }
    draft.items = [
      { ...emptyLine(), medicine_name: 'Atorvastatin (generic)', amount: '60.00', is_generic: true, branded_price: ' 150.00 ' },
      { ...emptyLine(), medicine_name: 'Lipitor', amount: '150.00', is_generic: false, branded_price: '200.00' },
      { ...emptyLine(), medicine_name: 'Metformin (generic)', amount: '20.00', is_generic: true, branded_price: '' },
    ]
    const items = billBody(draft).items ?? []
    expect(items[0].branded_price).toBe('150.00')
    expect(items[1]).not.toHaveProperty('branded_price', '200.00')
    expect(items[1].branded_price).toBeUndefined()
    expect(items[2].branded_price).toBeUndefined()
  })
})
