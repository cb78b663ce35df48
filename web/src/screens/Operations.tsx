import { useState, type FormEvent } from 'react'
import { useAudit, useDeadLetters, useReplayDeadLetters, type AuditFilters, type DeadLetterService, type DeadLetterStatus } from '../api/queries'
import { BusyButton, Field, Loading, Notice, ProblemAlert } from '../components/forms'
import { Pager } from '../components/Pager'
import { Badge, Empty, Screen } from '../components/Screen'
import { Tabs } from '../components/Tabs'
import { formatDateTime } from '../format'

export function Operations() {
  const [tab, setTab] = useState('dead-letters')
  return (
    <Screen title="Operations" intro="Messages between the services that could not be handled, and who read or changed customer profiles.">
      <Tabs
        label="Operations"
        selected={tab}
        onSelect={setTab}
        tabs={[
          { id: 'dead-letters', label: 'Dead letters', content: <DeadLetters /> },
          { id: 'audit', label: 'Audit log', content: <AuditLog /> },
        ]}
      />
    </Screen>
  )
}

interface DeadLetterRow {
  id?: number
  event_type?: string | null
  reason?: string
  dead_lettered_at?: string
  replayed_at?: string | null
  status?: string
}

function DeadLetters() {
  const [status, setStatus] = useState<DeadLetterStatus>('archived')
  const letters = useDeadLetters(status)
  const replay = useReplayDeadLetters()
  const [result, setResult] = useState<string | null>(null)
  const services = Object.entries(letters.data?.services ?? {}) as [DeadLetterService, NonNullable<NonNullable<typeof letters.data>['services']>[string]][]
  return (
    <>
      <form className="filters" aria-label="Filter dead letters" onSubmit={(e) => e.preventDefault()}>
        <Field label="Show">
          <select value={status} onChange={(e) => setStatus(e.target.value as DeadLetterStatus)}>
            <option value="archived">Waiting for replay</option>
            <option value="replayed">Replayed</option>
            <option value="all">All</option>
          </select>
        </Field>
      </form>
      <ProblemAlert error={letters.error ?? replay.error} />
      {result && <Notice>{result}</Notice>}
      {letters.isPending && <Loading what="Loading dead letters" />}
      {letters.data && (
        <p>
          <strong>{letters.data.total ?? 0}</strong> dead letter{letters.data.total === 1 ? '' : 's'} in this selection.
        </p>
      )}
      {services.map(([service, page]) => {
        const items = (page.items ?? []) as DeadLetterRow[]
        return (
          <section key={service} className="panel" aria-labelledby={`dl-${service}`}>
            <div className="panel__head">
              <h3 id={`dl-${service}`}>
                {service} {!page.available && <Badge tone="bad">unavailable</Badge>}
              </h3>
              <BusyButton
                className="btn btn--small"
                disabled={!page.available || !items.some((i) => i.status !== 'replayed')}
                busy={replay.isPending && replay.variables?.service === service}
                busyText="Replaying…"
                onClick={() =>
                  replay.mutate(
                    { service },
                    { onSuccess: (answer) => setResult(`${service}: ${(answer as { replayed?: number })?.replayed ?? 0} message(s) replayed.`) },
                  )
                }
              >
                Replay all of {service}
              </BusyButton>
            </div>
            {!page.available && <p className="muted">{page.detail}</p>}
            {items.length ? (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Event</th>
                      <th scope="col">Reason</th>
                      <th scope="col">Status</th>
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((d) => (
                      <tr key={d.id}>
                        <td>{formatDateTime(d.dead_lettered_at)}</td>
                        <td>{d.event_type ?? '—'}</td>
                        <td className="wrap">{d.reason}</td>
                        <td>{d.status === 'replayed' ? `Replayed ${formatDateTime(d.replayed_at)}` : 'Waiting'}</td>
                        <td>
                          <BusyButton
                            className="btn btn--small"
                            disabled={d.status === 'replayed'}
                            busy={replay.isPending && replay.variables?.ids?.[0] === d.id}
                            busyText="Replaying…"
                            onClick={() => replay.mutate({ service, ids: [d.id ?? 0] }, { onSuccess: () => setResult(`Message ${d.id} of ${service} replayed.`) })}
                          >
                            Replay
                          </BusyButton>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              page.available && <Empty>Nothing here.</Empty>
            )}
          </section>
        )
      })}
    </>
  )
}

function AuditLog() {
  const [draft, setDraft] = useState({ subject: '', user: '', from: '', to: '' })
  const [filters, setFilters] = useState<AuditFilters>({ page: 1 })
  const audit = useAudit(filters)
  function submit(event: FormEvent) {
    event.preventDefault()
    setFilters({
      subject: draft.subject ? Number(draft.subject) : undefined,
      user: draft.user.trim() || undefined,
      from: draft.from || undefined,
      to: draft.to || undefined,
      page: 1,
    })
  }
  return (
    <>
      <form className="filters" onSubmit={submit} aria-label="Filter the audit log">
        <Field label="Customer id" name="subject" error={audit.error}>
          <input inputMode="numeric" value={draft.subject} onChange={(e) => setDraft({ ...draft, subject: e.target.value })} />
        </Field>
        <Field label="User" name="user" error={audit.error}>
          <input value={draft.user} onChange={(e) => setDraft({ ...draft, user: e.target.value })} />
        </Field>
        <Field label="From" name="from" error={audit.error}>
          <input type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        </Field>
        <Field label="To" name="to" error={audit.error}>
          <input type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </Field>
        <button type="submit" className="btn">
          Filter
        </button>
      </form>
      <ProblemAlert error={audit.error} />
      {audit.isPending ? (
        <Loading what="Loading the audit log" />
      ) : audit.data?.items?.length ? (
        <>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Reads and changes of customer profiles, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">Customer</th>
                  <th scope="col">Action</th>
                  <th scope="col">Fields changed</th>
                  <th scope="col">Request id</th>
                </tr>
              </thead>
              <tbody>
                {audit.data.items.map((a) => (
                  <tr key={a.id}>
                    <td>{formatDateTime(a.at)}</td>
                    <td>{a.username}</td>
                    <td>#{a.customer_id}</td>
                    <td>{a.action}</td>
                    <td>{(a.fields_changed ?? []).join(', ') || '—'}</td>
                    <td className="mono">{a.request_id}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager label="Audit log" page={filters.page} perPage={audit.data.per_page ?? 25} total={audit.data.total ?? 0} onPage={(page) => setFilters({ ...filters, page })} />
        </>
      ) : (
        <Empty>No entry matches.</Empty>
      )}
    </>
  )
}
