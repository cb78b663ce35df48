import { useState, type FormEvent } from 'react'
import { Link } from 'react-router-dom'
import { useCustomers } from '../api/queries'
import { Field, Loading, ProblemAlert } from '../components/forms'
import { Pager } from '../components/Pager'
import { Empty, Panel, Screen } from '../components/Screen'
import { formatDate, formatMoney } from '../format'
import { CATEGORY, keys as labelKeys, label, type Category } from '../labels'
import { useSearchState } from '../useSearchState'
import { useUser } from '../auth'
import { ExportButton } from '../components/ExportButton'

export function Customers() {
  const { values, set, page, setPage } = useSearchState(['category', 'q', 'page'] as const)
  const [q, setQ] = useState(values.q)
  const { isAdmin } = useUser()
  const customers = useCustomers({ category: values.category as Category | '', q: values.q, page })
  function search(event: FormEvent) {
    event.preventDefault()
    set({ q: q.trim() })
  }
  const items = customers.data?.items ?? []
  return (
    <Screen title="Customers" intro="Customer profiles, created by bills and kept up to date by every visit." actions={isAdmin ? <ExportButton what="customers" query={{ category: values.category as Category | '', q: values.q }} /> : undefined}>
      <Panel title="Customer profiles" id="customers-title">
        <div className="segmented" role="group" aria-label="Filter by category">
          {(['', ...labelKeys(CATEGORY)] as const).map((c) => (
            <button key={c || 'all'} type="button" className="btn btn--small" aria-pressed={values.category === c} onClick={() => set({ category: c })}>
              {c ? CATEGORY[c] : 'All Customers'}
            </button>
          ))}
        </div>
        <form className="filters" role="search" aria-label="Search customers" onSubmit={search}>
          <Field label="Search name or phone">
            <input type="search" value={q} onChange={(e) => setQ(e.target.value)} />
          </Field>
          <button type="submit" className="btn">
            Search
          </button>
        </form>
        <ProblemAlert error={customers.error} />
        {customers.isPending ? (
          <Loading what="Loading customers" />
        ) : items.length ? (
          <>
            <div className="table-wrap" aria-busy={customers.isFetching}>
              <table>
                <caption className="visually-hidden">Customers</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Phone</th>
                    <th scope="col">Category</th>
                    <th scope="col">Visits</th>
                    <th scope="col">Total purchases</th>
                    <th scope="col">Last visit</th>
                    <th scope="col">Prefers generic</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((c) => (
                    <tr key={c.id}>
                      <td>
                        <Link to={`/customers/${c.id}`}>{c.name || 'No name'}</Link>
                      </td>
                      <td className="nowrap">{c.phone}</td>
                      <td>{label(CATEGORY, c.category)}</td>
                      <td>{c.total_visits ?? 0}</td>
                      <td className="num">{formatMoney(c.total_purchases)}</td>
                      <td>{formatDate(c.last_visit_date)}</td>
                      <td>{c.prefers_generic ? 'Yes' : 'No'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager label="Customers" page={page} perPage={customers.data?.per_page ?? 25} total={customers.data?.total ?? 0} onPage={setPage} />
          </>
        ) : (
          <Empty>No customer matches.</Empty>
        )}
      </Panel>
    </Screen>
  )
}
