import { reminderErrors } from './manualReminder'

describe('the "Set refill reminder" form', () => {
  const today = '2026-02-10'
  it('accepts a medicine and today or a later day', () => {
    expect(reminderErrors({ medicine_name: 'Cough syrup', reminder_date: today }, today)).toEqual({})
    expect(reminderErrors({ medicine_name: 'Cough syrup', reminder_date: '2026-03-01' }, today)).toEqual({})
  })
  it('puts a message beside each field that is wrong', () => {
    expect(reminderErrors({ medicine_name: ' ', reminder_date: '' }, today)).toEqual({
      medicine_name: ['Enter the medicine.'],
      reminder_date: ['Choose the day to remind the customer.'],
    })
    expect(reminderErrors({ medicine_name: 'x', reminder_date: '2026-02-09' }, today)).toEqual({ reminder_date: ['Choose today or a later day.'] })
  })
})
