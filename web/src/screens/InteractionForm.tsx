import { useState, type FormEvent } from 'react'
import type { InteractionBody, Schemas } from '../api/client'
import { useLogInteraction } from '../api/queries'
import { interactionBlocked } from '../components/consent'
import { BusyButton, Field, Notice, ProblemAlert, fieldErrors } from '../components/forms'
import { PHARMACY_TZ, localInputToIso } from '../format'
import { INTERACTION_TYPE, keys as labelKeys, type InteractionType } from '../labels'

const EMPTY = {
  notes: '',
  customer_response: '',
  next_action: '',
  call_duration_minutes: '',
  call_successful: '' as '' | 'yes' | 'no',
  follow_up_at: '',
}

/** Every field of an interaction (guide, "Contact Interaction"); kept as typed when saving fails. */
export function InteractionForm({
  contactId,
  initialType = 'call',
  consent,
}: {
  contactId: number
  initialType?: InteractionType
  /** The phone's consent: a call or WhatsApp to a phone that declined it is not offered (the API answers 409). */
  consent?: Partial<Schemas['ConsentChannels']> | null
}) {
  const log = useLogInteraction(contactId)
  const [type, setType] = useState<InteractionType>(initialType)
  const [form, setForm] = useState(EMPTY)
  const [saved, setSaved] = useState(false)
  const set = (field: keyof typeof EMPTY) => (e: { target: { value: string } }) => setForm({ ...form, [field]: e.target.value })

  function submit(event: FormEvent) {
    event.preventDefault()
    setSaved(false)
    const body: InteractionBody = {
      type,
      notes: form.notes.trim() || undefined,
      customer_response: form.customer_response.trim() || undefined,
      next_action: form.next_action.trim() || undefined,
      call_duration_minutes: form.call_duration_minutes === '' ? undefined : Number(form.call_duration_minutes),
      call_successful: form.call_successful === '' ? undefined : form.call_successful === 'yes',
      follow_up_at: localInputToIso(form.follow_up_at),
    }
    log.mutate(body, {
      onSuccess: () => {
        setForm(EMPTY)
        setSaved(true)
      },
    })
  }

  const isCall = type === 'call'
  const blocked = interactionBlocked(consent, type)
  return (
    <form onSubmit={submit} noValidate aria-label="Log an interaction">
      <ProblemAlert error={log.error} context="Not saved" />
      <Field label="Interaction type" name="type" error={log.error}>
        <select value={type} onChange={(e) => setType(e.target.value as InteractionType)}>
          {labelKeys(INTERACTION_TYPE).map((t) => (
            <option key={t} value={t}>
              {INTERACTION_TYPE[t]}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Notes" name="notes" error={log.error} hint="What was discussed">
        <textarea rows={3} value={form.notes} onChange={set('notes')} />
      </Field>
      <Field label="Customer response" name="customer_response" error={log.error} hint="Their feedback">
        <textarea rows={2} value={form.customer_response} onChange={set('customer_response')} />
      </Field>
      <Field label="Next action" name="next_action" error={log.error} hint="Follow-up plan">
        <input value={form.next_action} onChange={set('next_action')} />
      </Field>
      <div className="row-fields">
        <Field label="Call duration (minutes)" name="call_duration_minutes" error={log.error}>
          <input type="number" min={0} inputMode="numeric" value={form.call_duration_minutes} onChange={set('call_duration_minutes')} disabled={!isCall} />
        </Field>
        <fieldset className="radios" disabled={!isCall} aria-describedby={fieldErrors(log.error, 'call_successful').length ? 'call-ok-error' : undefined}>
          <legend>Call successful</legend>
          {(
            [
              ['yes', 'Yes'],
              ['no', 'No'],
              ['', 'Not recorded'],
            ] as const
          ).map(([value, text]) => (
            <label key={value || 'none'}>
              <input type="radio" name="call_successful" value={value} checked={form.call_successful === value} onChange={set('call_successful')} /> {text}
            </label>
          ))}
          {fieldErrors(log.error, 'call_successful').length > 0 && (
            <p className="field-error" id="call-ok-error">
              {fieldErrors(log.error, 'call_successful').join(' ')}
            </p>
          )}
        </fieldset>
      </div>
      <Field label="Follow-up date" name="follow_up_at" error={log.error} hint={`A follow-up reminder for this time (${PHARMACY_TZ} time).`}>
        <input type="datetime-local" value={form.follow_up_at} onChange={set('follow_up_at')} />
      </Field>
      <BusyButton
        type="submit"
        className="btn btn--primary"
        busy={log.isPending}
        busyText="Saving…"
        disabled={blocked != null}
        aria-describedby={blocked ? `interaction-${contactId}-blocked` : undefined}
      >
        Save interaction
      </BusyButton>
      {blocked && (
        <p className="blocked" id={`interaction-${contactId}-blocked`}>
          {blocked}
        </p>
      )}
      {saved && <Notice>Interaction saved.</Notice>}
    </form>
  )
}
