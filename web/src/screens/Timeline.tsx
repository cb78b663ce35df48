import type { Schemas } from '../api/client'
import { Empty } from '../components/Screen'
import { formatDateTime } from '../format'
import { INTERACTION_TYPE, label } from '../labels'

/** The contact's interactions, newest first, with the follow-ups they planned. */
export function Timeline({
  interactions,
  followUps,
  names,
  isAdmin,
}: {
  interactions: Schemas['Interaction'][]
  followUps: Schemas['FollowUp'][]
  names: Map<number, string>
  isAdmin: boolean
}) {
  if (!interactions.length && !followUps.length) return <Empty>No interaction yet.</Empty>
  const sorted = [...interactions].sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''))
  const open = followUps.filter((f) => !f.done_at)
  return (
    <>
      {open.length > 0 && (
        <ul className="rows">
          {open.map((f) => (
            <li key={f.id}>
              <span>
                <strong>Follow-up</strong> {f.note}
              </span>
              <span className="muted">due {formatDateTime(f.due_at)}</span>
            </li>
          ))}
        </ul>
      )}
      <ol className="timeline" aria-label="Interactions, newest first">
        {sorted.map((i) => (
          <li key={i.id} className="timeline__item">
            <p className="timeline__head">
              <strong>{label(INTERACTION_TYPE, i.type)}</strong> <time dateTime={i.created_at}>{formatDateTime(i.created_at)}</time>
              {isAdmin && i.staff_id != null && <span className="muted"> · {names.get(i.staff_id) ?? `staff #${i.staff_id}`}</span>}
            </p>
            <dl className="timeline__body">
              {i.notes && (
                <div>
                  <dt>Notes</dt>
                  <dd>{i.notes}</dd>
                </div>
              )}
              {i.customer_response && (
                <div>
                  <dt>Customer response</dt>
                  <dd>{i.customer_response}</dd>
                </div>
              )}
              {i.next_action && (
                <div>
                  <dt>Next action</dt>
                  <dd>{i.next_action}</dd>
                </div>
              )}
              {i.call_duration_minutes != null && (
                <div>
                  <dt>Call duration</dt>
                  <dd>{i.call_duration_minutes} min</dd>
                </div>
              )}
              {i.call_successful != null && (
                <div>
                  <dt>Call successful</dt>
                  <dd>{i.call_successful ? 'Yes' : 'No'}</dd>
                </div>
              )}
              {i.follow_up_at && (
                <div>
                  <dt>Follow-up</dt>
                  <dd>{formatDateTime(i.follow_up_at)}</dd>
                </div>
              )}
            </dl>
          </li>
        ))}
      </ol>
    </>
  )
}
