import { useState, type FormEvent } from 'react'
import { useCreateRefillReminder } from '../api/queries'
import { formatDate, pharmacyDay } from '../format'
import { BusyButton, Field, Notice, ProblemAlert } from './forms'
import { reminderErrors, type ReminderDraft } from './manualReminder'

const empty = (): ReminderDraft => ({ medicine_name: '', reminder_date: '' })

/** "Set refill reminder": for a medicine billed without a duration (POST /reminders/refills). */
export function ManualRefillReminder({ customerId }: { customerId: number }) {
  const create = useCreateRefillReminder()
  const [draft, setDraft] = useState<ReminderDraft>(empty)
  const [local, setLocal] = useState<Record<string, string[]>>({})
  const [done, setDone] = useState<string | null>(null)
  const set = (change: Partial<ReminderDraft>) => {
    setLocal({})
    setDone(null)
    setDraft({ ...draft, ...change })
  }
  function submit(event: FormEvent) {
    event.preventDefault()
    const errors = reminderErrors(draft)
    setLocal(errors)
    if (Object.keys(errors).length) return
    create.mutate(
      { customer_id: customerId, medicine_name: draft.medicine_name.trim(), reminder_date: draft.reminder_date },
      {
        onSuccess: (r) => {
          setDone(`Refill reminder set: ${r.medicine_name} on ${formatDate(r.reminder_date)}.`)
          setDraft(empty())
        },
      },
    )
  }
  const e = create.error
  return (
    <form onSubmit={submit} noValidate aria-labelledby="set-refill-title" className="subsection">
      <h3 id="set-refill-title">Set refill reminder</h3>
      <p className="hint">For a medicine billed without a duration: choose the day to remind the customer.</p>
      <ProblemAlert error={e} context="The reminder was not set" />
      <div className="grid-3">
        <Field label="Medicine" name="medicine_name" error={e} messages={local.medicine_name}>
          <input value={draft.medicine_name} maxLength={200} onChange={(ev) => set({ medicine_name: ev.target.value })} />
        </Field>
        <Field label="Reminder date" name="reminder_date" error={e} messages={local.reminder_date}>
          <input type="date" min={pharmacyDay()} value={draft.reminder_date} onChange={(ev) => set({ reminder_date: ev.target.value })} />
        </Field>
      </div>
      <div className="form-actions">
        <BusyButton type="submit" className="btn btn--primary" busy={create.isPending} busyText="Saving…">
          Set refill reminder
        </BusyButton>
      </div>
      {done && <Notice>{done}</Notice>}
    </form>
  )
}
