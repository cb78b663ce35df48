// The "Set refill reminder" form's checks in the browser (the API checks them again).
import { pharmacyDay } from '../format'

export interface ReminderDraft {
  medicine_name: string
  reminder_date: string
}

export function reminderErrors(draft: ReminderDraft, today: string = pharmacyDay()): Record<string, string[]> {
  const errors: Record<string, string[]> = {}
  if (!draft.medicine_name.trim()) errors.medicine_name = ['Enter the medicine.']
  if (!draft.reminder_date) errors.reminder_date = ['Choose the day to remind the customer.']
  else if (draft.reminder_date < today) errors.reminder_date = ['Choose today or a later day.']
  return errors
}
