/** Previous / next page of a list answer `{items, page, per_page, total}`. */
export function Pager({ page, perPage, total, onPage, label }: { page: number; perPage: number; total: number; onPage: (page: number) => void; label: string }) {
  const pages = Math.max(1, Math.ceil(total / perPage))
  if (total <= perPage && page === 1) return <p className="pager-summary">{total === 1 ? '1 row' : `${total} rows`}</p>
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" className="btn btn--ghost" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span>
        Page {page} of {pages} ({total} rows)
      </span>
      <button type="button" className="btn btn--ghost" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  )
}
