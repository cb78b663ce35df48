import type { Schemas } from '../api/client'
import { formatDate } from '../format'
import { CATEGORY, CATEGORY_SOURCE, label } from '../labels'

/** The customer's category over time, newest first (`category_history` is oldest first). */
export function CategoryHistory({ customer }: { customer: Schemas['Customer'] }) {
  const history = [...(customer.category_history ?? [])].reverse()
  if (!history.length) return null
  return (
    <section className="card side" aria-labelledby="category-history-title">
      <h2 id="category-history-title">Category history</h2>
      <ol className="timeline timeline--short" aria-label="Category changes, newest first">
        {history.map((change, i) => (
          <li key={`${change.since}-${i}`} className="timeline__item">
            <strong>{label(CATEGORY, change.category)}</strong>
            <span className="block muted">
              since {formatDate(change.since)}, {change.source === 'bill' && change.bill_id != null ? `from bill #${change.bill_id}` : label(CATEGORY_SOURCE, change.source)}
              {i === 0 ? ' (now)' : ''}
            </span>
          </li>
        ))}
      </ol>
    </section>
  )
}
