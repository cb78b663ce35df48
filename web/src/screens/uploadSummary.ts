import type { Schemas } from '../api/client'

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

/** An import's result in words: "Imported 12 contacts from list.csv: ..." */
export function uploadSummary(upload: Schemas['Upload'], staffNames: Map<number, string>): string[] {
  if (upload.status === 'failed') return [`The import of ${upload.filename} failed: ${upload.failure_reason || 'no reason given'}.`]
  if (upload.status === 'processing') {
    return [`Importing ${upload.filename}: ${upload.rows_done ?? 0} of ${upload.total_rows ?? '?'} rows read so far.`]
  }
  const lines = [
    `Imported ${plural(upload.imported ?? 0, 'new contact')} from ${upload.filename}${upload.list_name ? ` (list “${upload.list_name}”)` : ''}, ${plural(upload.total_rows ?? 0, 'row')} read.`,
  ]
  const skipped: string[] = []
  if (upload.duplicates_in_file) skipped.push(`${plural(upload.duplicates_in_file, 'repeated phone')} in the file`)
  if (upload.already_known) skipped.push(`${plural(upload.already_known, 'phone')} already in Contact Records`)
  if (upload.invalid) skipped.push(`${plural(upload.invalid, 'invalid row')} (see the error report)`)
  lines.push(skipped.length ? `Skipped: ${skipped.join(', ')}.` : 'Nothing was skipped.')
  const assigned = Object.entries((upload.assigned ?? {}) as Record<string, number>)
  if (assigned.length) {
    lines.push(
      'Assigned: ' +
        assigned.map(([id, n]) => `${staffNames.get(Number(id)) ?? `staff #${id}`} ${plural(n, 'contact')}`).join(', ') +
        '.',
    )
  }
  return lines
}
