import { useState, type FormEvent } from 'react'
import { Link } from 'react-router-dom'
import type { Schemas } from '../api/client'
import { useRefillCall, useRefillPurchased, useRefillResponse, useRefillWhatsapp, useRefills, type RefillListStatus } from '../api/queries'
import { Dialog } from '../components/Dialog'
import { BusyButton, Check, Field, Loading, ProblemAlert } from '../components/forms'
import { Pager } from '../components/Pager'
import { Empty, Panel, Screen } from '../components/Screen'
import { RefillStatusBadge } from '../components/StatusBadge'
import { daysUntilLabel, formatDate, formatDateTime } from '../format'
import { DAYS_AHEAD } from '../labels'
import { useSearchState } from '../useSearchState'
import { ExportButton } from '../components/ExportButton'
import { blockedReason } from '../components/consent'
import { Badge } from '../components/Screen'

const STATUS_FILTER: Record<RefillListStatus, string> = {
  '': 'Still due (open or responded)',
  open: 'Not yet responded',
  responded: 'Responded, not purchased',
  purchased: 'Purchased',
  all: 'All',
}

type Action = { kind: 'call' | 'response'; reminder: Schemas['RefillReminder'] }

export function RefillReminders() {
  const { values, set, page, setPage } = useSearchState(['days', 'status', 'page'] as const)
  const days = (values.days === '' ? 7 : Number(values.days)) as 0 | 7 | 14 | 30
  const status = values.status as RefillListStatus
  const daysAhead = status === 'purchased' || status === 'all' ? undefined : days
  const refills = useRefills({ days_ahead: daysAhead, status, page })
  const whatsapp = useRefillWhatsapp()
  const purchased = useRefillPurchased()
  const [action, setAction] = useState<Action | null>(null)
  const [waLink, setWaLink] = useState<{ id: number; url: string } | null>(null)

  const items = refills.data?.items ?? []
  return (
    <Screen title="Refill Reminders" intro="Customers whose medicine runs out soon. Contact them, record their answer, and mark the refill purchased." actions={<ExportButton what="refills" query={{ days_ahead: daysAhead, status }} />}>
      <Panel title="Due reminders" id="refills-title">
        <form className="filters" aria-label="Filter reminders" onSubmit={(e) => e.preventDefault()}>
          <Field label="Days ahead">
            <select value={String(days)} onChange={(e) => set({ days: e.target.value })} disabled={status === 'purchased' || status === 'all'}>
              {Object.entries(DAYS_AHEAD).map(([value, text]) => (
                <option key={value} value={value}>
                  {text}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Show">
            <select value={status} onChange={(e) => set({ status: e.target.value })}>
              {Object.entries(STATUS_FILTER).map(([value, text]) => (
                <option key={value} value={value}>
                  {text}
                </option>
              ))}
            </select>
          </Field>
        </form>
        <ProblemAlert error={refills.error ?? whatsapp.error ?? purchased.error} />
        {waLink && (
          <p className="alert alert--ok" role="status">
            WhatsApp reminder marked as sent.{' '}
            <a href={waLink.url} target="_blank" rel="noopener noreferrer">
              Open the WhatsApp message<span className="visually-hidden"> (new tab)</span>
            </a>
          </p>
        )}
        {refills.isPending ? (
          <Loading what="Loading reminders" />
        ) : items.length ? (
          <>
            <div className="table-wrap" aria-busy={refills.isFetching}>
              <table>
                <caption className="visually-hidden">Refill reminders, soonest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Customer</th>
                    <th scope="col">Medicine</th>
                    <th scope="col">Reminder date</th>
                    <th scope="col">Days until due</th>
                    <th scope="col">Contact status</th>
                    <th scope="col">Customer response</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((r) => {
                    const who = r.customer_name || r.customer_phone || 'customer'
                    const closed = r.status === 'purchased'
                    const noWhatsapp = blockedReason(r.consent, 'whatsapp')
                    const noCall = blockedReason(r.consent, 'call')
                    const reasonId = `refill-${r.id}-consent`
                    return (
                      <tr key={r.id}>
                        <td>
                          {r.customer_id != null ? <Link to={`/customers/${r.customer_id}`}>{who}</Link> : who}
                          <span className="block muted nowrap">{r.customer_phone}</span>
                        </td>
                        <td>
                          {r.medicine_name}
                          {r.set_by_hand && (
                            <span className="block">
                              <Badge tone="info">Set by hand</Badge>
                            </span>
                          )}
                        </td>
                        <td className="nowrap">{formatDate(r.reminder_date)}</td>
                        <td className={r.days_until_due != null && r.days_until_due < 0 ? 'overdue' : ''}>{daysUntilLabel(r.days_until_due)}</td>
                        <td>
                          <RefillStatusBadge status={r.status} />
                          <span className="block">{r.whatsapp_sent_at ? `WhatsApp sent ${formatDateTime(r.whatsapp_sent_at)}` : 'WhatsApp not sent'}</span>
                          <span className="block">
                            {r.call_made_at
                              ? `Call made ${formatDateTime(r.call_made_at)}${r.call_successful === false ? ' (not reached)' : r.call_successful ? ' (reached)' : ''}`
                              : 'No call yet'}
                          </span>
                          {r.call_notes && <span className="block muted">“{r.call_notes}”</span>}
                          {r.purchased_at && <span className="block">Purchased {formatDateTime(r.purchased_at)}</span>}
                        </td>
                        <td>{r.responded ? r.customer_response || 'Responded' : '—'}</td>
                        <td>
                          <div className="row-actions" role="group" aria-label={`Actions for ${who}, ${r.medicine_name}`}>
                            <BusyButton
                              className="btn btn--small"
                              disabled={closed || noWhatsapp != null}
                              aria-describedby={noWhatsapp ? `${reasonId}-whatsapp` : undefined}
                              busy={whatsapp.isPending && whatsapp.variables === r.id}
                              busyText="Sending…"
                              onClick={() =>
                                whatsapp.mutate(r.id ?? 0, {
                                  onSuccess: (answer) => answer.whatsapp_url && setWaLink({ id: r.id ?? 0, url: answer.whatsapp_url }),
                                })
                              }
                            >
                              WhatsApp sent
                            </BusyButton>
                            <button
                              type="button"
                              className="btn btn--small"
                              disabled={closed || noCall != null}
                              aria-describedby={noCall ? `${reasonId}-call` : undefined}
                              onClick={() => setAction({ kind: 'call', reminder: r })}
                            >
                              Call made
                            </button>
                            <button type="button" className="btn btn--small" disabled={closed} onClick={() => setAction({ kind: 'response', reminder: r })}>
                              Responded
                            </button>
                            <BusyButton
                              className="btn btn--small btn--primary"
                              disabled={closed}
                              busy={purchased.isPending && purchased.variables === r.id}
                              busyText="Saving…"
                              onClick={() => purchased.mutate(r.id ?? 0)}
                            >
                              Purchased
                            </BusyButton>
                          </div>
                          {noWhatsapp && (
                            <span className="block blocked" id={`${reasonId}-whatsapp`}>
                              {noWhatsapp}
                            </span>
                          )}
                          {noCall && (
                            <span className="block blocked" id={`${reasonId}-call`}>
                              {noCall}
                            </span>
                          )}
                        </td>
                      </tr>
                    )
                  })}
                </tbody>
              </table>
            </div>
            <Pager label="Reminders" page={page} perPage={refills.data?.per_page ?? 25} total={refills.data?.total ?? 0} onPage={setPage} />
          </>
        ) : (
          <Empty>No reminder in this selection.</Empty>
        )}
      </Panel>
      <Dialog title="Call made" open={action?.kind === 'call'} onClose={() => setAction(null)}>
        {action?.kind === 'call' && <CallForm reminder={action.reminder} onDone={() => setAction(null)} />}
      </Dialog>
      <Dialog title="Customer responded" open={action?.kind === 'response'} onClose={() => setAction(null)}>
        {action?.kind === 'response' && <ResponseForm reminder={action.reminder} onDone={() => setAction(null)} />}
      </Dialog>
    </Screen>
  )
}

function CallForm({ reminder, onDone }: { reminder: Schemas['RefillReminder']; onDone: () => void }) {
  const call = useRefillCall()
  const [notes, setNotes] = useState('')
  const [successful, setSuccessful] = useState(true)
  function submit(event: FormEvent) {
    event.preventDefault()
    call.mutate({ id: reminder.id ?? 0, notes: notes.trim() || undefined, successful }, { onSuccess: onDone })
  }
  return (
    <form onSubmit={submit} noValidate>
      <p>
        {reminder.customer_name || reminder.customer_phone}: {reminder.medicine_name}. <a href={`tel:${reminder.customer_phone}`}>Call {reminder.customer_phone}</a>
      </p>
      <ProblemAlert error={call.error} context="Not saved" />
      <Field label="Call notes" name="notes" error={call.error}>
        <textarea rows={3} value={notes} onChange={(e) => setNotes(e.target.value)} autoFocus />
      </Field>
      <Check label="Call successful (reached the customer)" name="successful" checked={successful} onChange={setSuccessful} error={call.error} />
      <div className="form-actions">
        <BusyButton type="submit" className="btn btn--primary" busy={call.isPending} busyText="Saving…">
          Save call
        </BusyButton>
        <button type="button" className="btn btn--ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  )
}

function ResponseForm({ reminder, onDone }: { reminder: Schemas['RefillReminder']; onDone: () => void }) {
  const respond = useRefillResponse()
  const [text, setText] = useState(reminder.customer_response ?? '')
  function submit(event: FormEvent) {
    event.preventDefault()
    respond.mutate({ id: reminder.id ?? 0, customer_response: text.trim() }, { onSuccess: onDone })
  }
  return (
    <form onSubmit={submit} noValidate>
      <p>
        {reminder.customer_name || reminder.customer_phone}: {reminder.medicine_name}
      </p>
      <ProblemAlert error={respond.error} context="Not saved" />
      <Field label="Customer response" name="customer_response" error={respond.error} hint="What the customer said, e.g. “Will come on Saturday”.">
        <textarea rows={3} value={text} onChange={(e) => setText(e.target.value)} required autoFocus />
      </Field>
      <div className="form-actions">
        <BusyButton type="submit" className="btn btn--primary" busy={respond.isPending} busyText="Saving…">
          Save response
        </BusyButton>
        <button type="button" className="btn btn--ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  )
}
