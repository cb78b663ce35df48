import { useState, type FormEvent } from 'react'
import { Link, useParams } from 'react-router-dom'
import { useUser } from '../auth'
import type { Schemas } from '../api/client'
import { useContact, useConvertContact, useStaff, useUpdateContact, useYellowContact } from '../api/queries'
import { Dialog } from '../components/Dialog'
import { BusyButton, Field, Loading, Notice, ProblemAlert } from '../components/forms'
import { Panel, Screen } from '../components/Screen'
import { ContactStatusBadge } from '../components/StatusBadge'
import { formatDate, formatDateTime, formatMoney } from '../format'
import { WHATSAPP_STATUS, keys as labelKeys, label, type InteractionType, type WhatsappStatus } from '../labels'
import { ConsentBadges } from '../components/ConsentBadges'
import { CallAction, SendWhatsappButton } from '../components/SendWhatsappButton'
import { InteractionForm } from './InteractionForm'
import { Timeline } from './Timeline'

export function ContactPage() {
  const id = Number(useParams().id)
  const { isAdmin } = useUser()
  const contact = useContact(id)
  const staff = useStaff(isAdmin)
  const names = new Map((staff.data?.items ?? []).map((s) => [s.id ?? 0, s.name ?? '']))
  const [dialog, setDialog] = useState<'convert' | 'yellow' | null>(null)
  const [interactionType, setInteractionType] = useState<InteractionType>('call')

  if (contact.isPending) return <Loading what="Loading the contact" />
  if (contact.error || !contact.data)
    return (
      <Screen title="Contact">
        <ProblemAlert error={contact.error} context="The contact could not be shown" />
        <Link to="/contacts">Back to Contact Records</Link>
      </Screen>
    )
  const c = contact.data
  const final = c.status === 'converted'
  return (
    <Screen
      title={c.name || c.phone || 'Contact'}
      actions={
        <Link to="/contacts" className="btn btn--ghost">
          Back to Contact Records
        </Link>
      }
    >
      <div className="contact-head card">
        <dl className="facts">
          <div>
            <dt>Phone</dt>
            <dd>
              <a href={`tel:${c.phone}`}>{c.phone}</a> <ConsentBadges consent={c.consent} />
            </dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>
              <ContactStatusBadge status={c.status} />
            </dd>
          </div>
          <div>
            <dt>Assigned to</dt>
            <dd>{isAdmin ? (names.get(c.assigned_to ?? 0) ?? '—') : 'You'}</dd>
          </div>
          <div>
            <dt>Last interaction</dt>
            <dd>{formatDateTime(c.last_interaction_at)}</dd>
          </div>
          {final && (
            <div>
              <dt>Converted</dt>
              <dd>
                {formatDate(c.converted_at)} · {formatMoney(c.conversion_value)}
                {c.conversion_bill_id != null && ` · bill #${c.conversion_bill_id}`}
              </dd>
            </div>
          )}
          {c.customer_id != null && (
            <div>
              <dt>Customer</dt>
              <dd>
                <Link to={`/customers/${c.customer_id}`}>Open the customer profile</Link>
              </dd>
            </div>
          )}
        </dl>
        <div className="actions" aria-label="Actions">
          <CallAction phone={c.phone} consent={c.consent} onCall={() => setInteractionType('call')} />
          <SendWhatsappButton contactId={id} consent={c.consent} />
          <button type="button" className="btn" disabled={final} onClick={() => setDialog('convert')}>
            Convert
          </button>
          <button type="button" className="btn btn--warn" disabled={final || c.status === 'yellow'} onClick={() => setDialog('yellow')}>
            Yellow flag
          </button>
        </div>
        <ContactSettings contact={c} isAdmin={isAdmin} staff={(staff.data?.items ?? []).filter((s) => s.active)} />
      </div>
      <div className="grid-2">
        <Panel title="Log an interaction" id="interaction-title">
          <InteractionForm key={interactionType} contactId={id} initialType={interactionType} consent={c.consent} />
        </Panel>
        <Panel title="History" id="history-title">
          <Timeline interactions={c.interactions ?? []} followUps={c.follow_ups ?? []} names={names} isAdmin={isAdmin} />
        </Panel>
      </div>
      <Dialog title="Mark as converted" open={dialog === 'convert'} onClose={() => setDialog(null)}>
        <ConvertForm contactId={id} onDone={() => setDialog(null)} />
      </Dialog>
      <Dialog title="Yellow flag: visited but no purchase" open={dialog === 'yellow'} onClose={() => setDialog(null)}>
        <YellowForm contactId={id} onDone={() => setDialog(null)} />
      </Dialog>
    </Screen>
  )
}

function ContactSettings({ contact, isAdmin, staff }: { contact: Schemas['ContactDetail']; isAdmin: boolean; staff: Schemas['Staff'][] }) {
  const update = useUpdateContact()
  return (
    <form className="inline-form" aria-label="Contact details" onSubmit={(e) => e.preventDefault()}>
      <Field label="WhatsApp status" name="whatsapp_status" error={update.error}>
        <select
          value={contact.whatsapp_status ?? 'unknown'}
          disabled={update.isPending}
          onChange={(e) => update.mutate({ id: contact.id ?? 0, whatsapp_status: e.target.value as WhatsappStatus })}
        >
          {labelKeys(WHATSAPP_STATUS).map((s) => (
            <option key={s} value={s}>
              {label(WHATSAPP_STATUS, s)}
            </option>
          ))}
        </select>
      </Field>
      {isAdmin && (
        <Field label="Assigned to" name="assigned_to" error={update.error}>
          <select
            value={String(contact.assigned_to ?? '')}
            disabled={update.isPending}
            onChange={(e) => update.mutate({ id: contact.id ?? 0, assigned_to: Number(e.target.value) })}
          >
            {staff.map((s) => (
              <option key={s.id} value={String(s.id)}>
                {s.name}
              </option>
            ))}
          </select>
        </Field>
      )}
      <ProblemAlert error={update.error} context="Not saved" />
    </form>
  )
}

function ConvertForm({ contactId, onDone }: { contactId: number; onDone: () => void }) {
  const convert = useConvertContact(contactId)
  const [value, setValue] = useState('')
  const [billId, setBillId] = useState('')
  function submit(event: FormEvent) {
    event.preventDefault()
    convert.mutate(
      { conversion_value: value.trim() || undefined, bill_id: billId.trim() ? Number(billId) : undefined } as Schemas['ConvertIn'],
      { onSuccess: onDone },
    )
  }
  return (
    <form onSubmit={submit} noValidate>
      <p>Mark as converted when the contact made a purchase. A bill with “Was contacted before” does this by itself.</p>
      <ProblemAlert error={convert.error} context="Not converted" />
      <Field label="Conversion value (₹)" name="conversion_value" error={convert.error} hint="The bill amount, e.g. 450.00">
        <input inputMode="decimal" value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
      </Field>
      <Field label="Bill id" name="bill_id" error={convert.error}>
        <input inputMode="numeric" value={billId} onChange={(e) => setBillId(e.target.value)} />
      </Field>
      <div className="form-actions">
        <BusyButton type="submit" className="btn btn--primary" busy={convert.isPending} busyText="Saving…">
          Mark as converted
        </BusyButton>
        <button type="button" className="btn btn--ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  )
}

function YellowForm({ contactId, onDone }: { contactId: number; onDone: () => void }) {
  const yellow = useYellowContact(contactId)
  const [notes, setNotes] = useState('')
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault()
        yellow.mutate({ notes: notes.trim() || undefined }, { onSuccess: onDone })
      }}
    >
      <p>The contact visited the store but did not buy. A follow-up is planned for a few days later.</p>
      <ProblemAlert error={yellow.error} context="Not flagged" />
      <Field label="Notes" name="notes" error={yellow.error}>
        <textarea rows={3} value={notes} onChange={(e) => setNotes(e.target.value)} autoFocus />
      </Field>
      <div className="form-actions">
        <BusyButton type="submit" className="btn btn--warn" busy={yellow.isPending} busyText="Saving…">
          Yellow flag
        </BusyButton>
        <button type="button" className="btn btn--ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
      {yellow.isSuccess && <Notice>Flagged.</Notice>}
    </form>
  )
}

