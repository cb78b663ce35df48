import { Link } from 'react-router-dom'
import type { UseQueryResult } from '@tanstack/react-query'
import type { Schemas } from '../api/client'
import { useFollowUpDone } from '../api/queries'
import { CONTACT_STATUS, label } from '../labels'
import { formatDateTime } from '../format'
import { BusyButton, Loading, ProblemAlert } from './forms'
import { Empty } from './Screen'

/** Follow-ups due (GET /contacts/follow-ups) with a Done button each. */
export function FollowUpList({ query }: { query: UseQueryResult<Schemas['DueFollowUpPage']> }) {
  const done = useFollowUpDone()
  if (query.isPending) return <Loading what="Loading follow-ups" />
  return (
    <>
      <ProblemAlert error={query.error ?? done.error} />
      {query.data?.items?.length ? (
        <ul className="rows">
          {query.data.items.map((f) => (
            <li key={f.id}>
              <span>
                <Link to={`/contacts/${f.contact_id}`}>{f.contact_name || f.contact_phone}</Link>{' '}
                <span className="muted">({label(CONTACT_STATUS, f.contact_status)})</span>
                {f.note && <span className="block">{f.note}</span>}
              </span>
              <span className="row-actions">
                <span className="muted">{formatDateTime(f.due_at)}</span>
                <BusyButton
                  className="btn btn--small"
                  busy={done.isPending && done.variables === f.id}
                  busyText="Saving…"
                  onClick={() => done.mutate(f.id ?? 0)}
                  aria-label={`Done: follow-up with ${f.contact_name || f.contact_phone}`}
                >
                  Done
                </BusyButton>
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <Empty>No follow-up is due.</Empty>
      )}
    </>
  )
}
