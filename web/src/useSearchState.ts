import { useSearchParams } from 'react-router-dom'

/** Filters kept in the address (?status=...&page=2), so a reload or Back shows the same list. */
export function useSearchState<K extends string>(names: readonly K[]) {
  const [params, setParams] = useSearchParams()
  const values = Object.fromEntries(names.map((n) => [n, params.get(n) ?? ''])) as Record<K, string>
  function set(changes: Partial<Record<K, string>>, resetPage = true) {
    const next = new URLSearchParams(params)
    for (const [key, value] of Object.entries(changes) as [K, string][]) {
      if (value) next.set(key, value)
      else next.delete(key)
    }
    if (resetPage && !('page' in changes)) next.delete('page')
    setParams(next)
  }
  const page = Math.max(1, Number(params.get('page')) || 1)
  return { values, set, page, setPage: (p: number) => set({ page: p > 1 ? String(p) : '' } as Partial<Record<K, string>>, false) }
}
