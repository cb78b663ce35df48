import { useState, type FormEvent } from 'react'
import { Link } from 'react-router-dom'
import { useUser } from '../auth'
import { useContacts, useFollowUps, useStaff, useUpdateContact, useUploads } from '../api/queries'
import { BusyButton, Field, Loading, Notice, ProblemAlert } from '../components/forms'
import { FollowUpList } from '../components/FollowUpList'
import { Pager } from '../components/Pager'
import { Empty, Panel, Screen } from '../components/Screen'
import { ContactStatusBadge } from '../components/StatusBadge'
import { formatDateTime, formatMoney } from '../format'
import { CONTACT_STATUS, WHATSAPP_STATUS, keys as labelKeys, label, type ContactStatus, type WhatsappStatus } from '../labels'
import { useSearchState } from '../useSearchState'
import { ExportButton } from '../components/ExportButton'
import { declinedMarker } from '../components/consent'

const FILTERS = ['status', 'whatsapp', 'list', 'staff', 'q', 'page'] as const

export function ContactRecords() {
  const { isAdmin } = useUser()
  const { values, set, page, setPage } = useSearchState(FILTERS)
  const [q, setQ] = useState(values.q)
  const staff = useStaff(isAdmin)
  const uploads = useUploads(1, isAdmin)
  const names = new Map((staff.data?.items ?? []).map((s) => [s.id ?? 0, s.name ?? '']))
  const shown = {
    status: values.status as ContactStatus | '',
    whatsapp_status: values.whatsapp as WhatsappStatus | '',
    upload_id: values.list ? Number(values.list) : null,
    assigned_to: values.staff ? Number(values.staff) : null,
    q: values.q,
  }
  const filters = { ...shown, page }
  const contacts = useContacts(filters)
  const followUps = useFollowUps(0)
  const [selected, setSelected] = useState<number[]>([])

  function search(event: FormEvent) {
    event.preventDefault()
    set({ q: q.trim() })
  }

  const items = contacts.data?.items ?? []
  return (
    <Screen title="Contact Records" intro={isAdmin ? 'Every contact from the uploaded lists.' : 'The contacts assigned to you.'} actions={<ExportButton what="contacts" query={shown} />}>
      <Panel title="Follow-ups due" id="cr-follow-ups">
        <FollowUpList query={followUps} />
      </Panel>
      <Panel title="Contacts" id="cr-contacts">
        <form className="filters" onSubmit={search} role="search" aria-label="Filter contacts">
          <Field label="Contact status">
            <select value={values.status} onChange={(e) => set({ status: e.target.value })}>
              <option value="">All statuses</option>
              {labelKeys(CONTACT_STATUS).map((s) => (
                <option key={s} value={s}>
                  {CONTACT_STATUS[s]}
                </option>
              ))}
            </select>
          </Field>
          <Field label="WhatsApp status">
            <select value={values.whatsapp} onChange={(e) => set({ whatsapp: e.target.value })}>
              <option value="">Any</option>
              {labelKeys(WHATSAPP_STATUS).map((s) => (
                <option key={s} value={s}>
                  {WHATSAPP_STATUS[s]}
                </option>
              ))}
            </select>
          </Field>
          {uploads.isSuccess && (
            <Field label="Contact list">
              <select value={values.list} onChange={(e) => set({ list: e.target.value })}>
                <option value="">All lists</option>
                {(uploads.data.items ?? []).map((u) => (
                  <option key={u.id} value={String(u.id)}>
                    {u.list_name || u.filename} ({formatDateTime(u.created_at)})
                  </option>
                ))}
              </select>
            </Field>
          )}
          {isAdmin && (
            <Field label="Staff member">
              <select value={values.staff} onChange={(e) => set({ staff: e.target.value })}>
                <option value="">Everyone</option>
                {(staff.data?.items ?? []).map((s) => (
                  <option key={s.id} value={String(s.id)}>
                    {s.name}
                  </option>
                ))}
              </select>
            </Field>
          )}
          <Field label="Search name or phone">
            <input type="search" value={q} onChange={(e) => setQ(e.target.value)} />
          </Field>
          <button type="submit" className="btn">
            Search
          </button>
        </form>
        <ProblemAlert error={contacts.error} />
        {isAdmin && <BulkReassign ids={selected} onDone={() => setSelected([])} staff={(staff.data?.items ?? []).filter((s) => s.active)} />}
        {contacts.isPending ? (
          <Loading what="Loading contacts" />
        ) : items.length ? (
          <>
            <div className="table-wrap" aria-busy={contacts.isFetching}>
              <table>
                <caption className="visually-hidden">Contacts</caption>
                <thead>
                  <tr>
                    {isAdmin && (
                      <th scope="col">
                        <input
                          type="checkbox"
                          aria-label="Select every contact on this page"
                          checked={items.every((c) => selected.includes(c.id ?? 0))}
                          onChange={(e) => setSelected(e.target.checked ? items.map((c) => c.id ?? 0) : [])}
                        />
                      </th>
                    )}
                    <th scope="col">Name</th>
                    <th scope="col">Phone</th>
                    <th scope="col">Status</th>
                    <th scope="col">WhatsApp</th>
                    {isAdmin && <th scope="col">Assigned to</th>}
                    <th scope="col">Last interaction</th>
                    <th scope="col">Conversion</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((c) => (
                    <tr key={c.id}>
                      {isAdmin && (
                        <td>
                          <input
                            type="checkbox"
                            aria-label={`Select ${c.name || c.phone}`}
                            checked={selected.includes(c.id ?? 0)}
                            onChange={(e) => setSelected(e.target.checked ? [...selected, c.id ?? 0] : selected.filter((id) => id !== c.id))}
                          />
                        </td>
                      )}
                      <td>
                        <Link to={`/contacts/${c.id}`}>{c.name || 'No name'}</Link>
                      </td>
                      <td className="nowrap">{c.phone}</td>
                      <td>
                        <ContactStatusBadge status={c.status} />
                      </td>
                      <td>
                        {label(WHATSAPP_STATUS, c.whatsapp_status)}
                        {declinedMarker(c.consent) && <span className="consent-marker">{declinedMarker(c.consent)}</span>}
                      </td>
                      {isAdmin && <td>{names.get(c.assigned_to ?? 0) ?? '—'}</td>}
                      <td>{formatDateTime(c.last_interaction_at)}</td>
                      <td>{c.status === 'converted' ? formatMoney(c.conversion_value) : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager label="Contacts" page={page} perPage={contacts.data?.per_page ?? 25} total={contacts.data?.total ?? 0} onPage={setPage} />
          </>
        ) : (
          <Empty>No contact matches these filters.</Empty>
        )}
      </Panel>
    </Screen>
  )
}

function BulkReassign({ ids, staff, onDone }: { ids: number[]; staff: { id?: number; name?: string | null }[]; onDone: () => void }) {
  const update = useUpdateContact()
  const [to, setTo] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const [done, setDone] = useState<string | null>(null)
  async function submit(event: FormEvent) {
    event.preventDefault()
    if (!to) return
    setBusy(true)
    setError(null)
    let moved = 0
    try {
      for (const id of ids) {
        await update.mutateAsync({ id, assigned_to: Number(to) })
        moved += 1
      }
      setDone(`${moved} contact${moved === 1 ? '' : 's'} reassigned to ${staff.find((s) => String(s.id) === to)?.name}.`)
      onDone()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form className="bulkbar" onSubmit={submit} aria-label="Reassign the selected contacts">
      <span>{ids.length ? `${ids.length} selected` : 'Tick contacts to reassign them'}</span>
      <Field label="Reassign to" name="assigned_to" error={error}>
        <select value={to} onChange={(e) => setTo(e.target.value)} required>
          <option value="">Choose a staff member</option>
          {staff.map((s) => (
            <option key={s.id} value={String(s.id)}>
              {s.name}
            </option>
          ))}
        </select>
      </Field>
      <BusyButton type="submit" className="btn btn--primary" busy={busy} busyText="Reassigning…" disabled={!to || ids.length === 0}>
        Reassign
      </BusyButton>
      <ProblemAlert error={error} context="Reassigning stopped" />
      {done && <Notice>{done}</Notice>}
    </form>
  )
}
