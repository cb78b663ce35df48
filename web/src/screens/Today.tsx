import { Link } from 'react-router-dom'
import { useUser } from '../auth'
import { useContacts, useFollowUps, useRefills } from '../api/queries'
import { Loading, ProblemAlert } from '../components/forms'
import { Empty, Panel, Screen } from '../components/Screen'
import { FollowUpList } from '../components/FollowUpList'
import { daysUntilLabel, formatDate, formatDateTime } from '../format'
import { YesterdayConversions } from '../components/YesterdayConversions'

/** The landing screen: what needs doing today. */
export function Today() {
  const { user, isAdmin } = useUser()
  const refills = useRefills({ days_ahead: 0, status: '', page: 1 })
  const followUps = useFollowUps(0)
  const pending = useContacts({ status: 'pending', assigned_to: isAdmin ? user.id : undefined, page: 1, per_page: 10 })

  return (
    <Screen title="Today" intro={`Good day, ${user.name ?? ''}. Here is what needs doing.`}>
      <div className="grid-2">
        <Panel title="Refills due today and overdue" id="today-refills" actions={<Link to="/refills">All refill reminders</Link>}>
          <ProblemAlert error={refills.error} />
          {refills.isPending ? (
            <Loading what="Loading refill reminders" />
          ) : refills.data?.items?.length ? (
            <ul className="rows">
              {refills.data.items.map((r) => (
                <li key={r.id}>
                  <span>
                    <strong>{r.customer_name || r.customer_phone}</strong> — {r.medicine_name}
                  </span>
                  <span className={r.days_until_due != null && r.days_until_due < 0 ? 'overdue' : 'muted'}>
                    {daysUntilLabel(r.days_until_due)} ({formatDate(r.reminder_date)})
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <Empty>No refill is due today.</Empty>
          )}
          {(refills.data?.total ?? 0) > (refills.data?.items?.length ?? 0) && (
            <p>
              <Link to="/refills?days=0">{refills.data?.total} reminders in all</Link>
            </p>
          )}
        </Panel>
        <Panel title="Follow-ups due" id="today-follow-ups">
          <FollowUpList query={followUps} />
        </Panel>
        <Panel
          title="My pending contacts"
          id="today-pending"
          actions={<Link to={`/contacts?status=pending${isAdmin ? `&staff=${user.id}` : ''}`}>Open in Contact Records</Link>}
        >
          <ProblemAlert error={pending.error} />
          {pending.isPending ? (
            <Loading what="Loading contacts" />
          ) : pending.data?.items?.length ? (
            <>
              <p>
                <strong>{pending.data.total}</strong> contact{pending.data.total === 1 ? '' : 's'} waiting for a first call.
              </p>
              <ul className="rows">
                {pending.data.items.map((c) => (
                  <li key={c.id}>
                    <Link to={`/contacts/${c.id}`}>{c.name || c.phone}</Link>
                    <span className="muted">{c.phone} · added {formatDateTime(c.created_at)}</span>
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <Empty>No pending contact is assigned to you.</Empty>
          )}
        </Panel>
        <YesterdayConversions />
      </div>
    </Screen>
  )
}
