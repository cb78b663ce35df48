import { uploadSummary } from './uploadSummary'

describe('the import summary', () => {
  it('says what was imported, skipped and assigned to whom', () => {
    const lines = uploadSummary(
      { id: 3, filename: 'camp.csv', list_name: 'Camp', status: 'completed', total_rows: 10, imported: 7, duplicates_in_file: 1, already_known: 1, invalid: 1, assigned: { '5': 4, '6': 3 } },
      new Map([
        [5, 'Priya'],
        [6, 'Ravi'],
      ]),
    )
    expect(lines).toEqual([
      'Imported 7 new contacts from camp.csv (list “Camp”), 10 rows read.',
      'Skipped: 1 repeated phone in the file, 1 phone already in Contact Records, 1 invalid row (see the error report).',
      'Assigned: Priya 4 contacts, Ravi 3 contacts.',
    ])
  })
  it('shows progress while importing in the background', () => {
    expect(uploadSummary({ filename: 'big.xlsx', status: 'processing', rows_done: 500, total_rows: 2000 }, new Map())[0]).toBe(
      'Importing big.xlsx: 500 of 2000 rows read so far.',
    )
  })
})
