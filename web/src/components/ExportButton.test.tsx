import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { api } from '../api/client'
import spec from '../api/openapi.json'
import { exportPath, filenameOf, type ExportQuery } from '../api/queries'
import { ExportButton } from './ExportButton'

describe('ExportButton', () => {
  afterEach(() => vi.restoreAllMocks())

  it('downloads the list with its filters through the API client (which sends the token)', async () => {
    const blob = new Blob(['id,name\n'], { type: 'text/csv' })
    const get = vi.spyOn(api, 'GET').mockResolvedValue({
      data: blob,
      response: new Response(null, { status: 200, headers: { 'Content-Disposition': 'attachment; filename="refill-reminders.csv"' } }),
    } as never)
    const createObjectURL = vi.fn(() => 'blob:x')
    Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() })
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {})
    render(<ExportButton what="refills" query={{ days_ahead: 7, status: '' }} />)
    await userEvent.click(screen.getByRole('button', { name: 'Export CSV' }))
    expect(get).toHaveBeenCalledWith('/api/v1/reminders/refills/export', { params: { query: { days_ahead: 7, format: 'csv' } }, parseAs: 'blob' })
    expect(createObjectURL).toHaveBeenCalledWith(blob)
    expect(click).toHaveBeenCalled()
  })

  it('says why the export failed', async () => {
    vi.spyOn(api, 'GET').mockResolvedValue({ error: { title: 'Forbidden', detail: 'admins only' }, response: new Response(null, { status: 403 }) } as never)
    render(<ExportButton what="customers" query={{ category: 'regular_branded', q: '' }} />)
    await userEvent.click(screen.getByRole('button', { name: 'Export Excel' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('The export failed: Forbidden. admins only')
  })

  it('exports a report with its period, under a name of its own', async () => {
    const get = vi.spyOn(api, 'GET').mockResolvedValue({ data: new Blob(['a']), response: new Response(null, { status: 200 }) } as never)
    Object.assign(URL, { createObjectURL: vi.fn(() => 'blob:x'), revokeObjectURL: vi.fn() })
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {})
    render(<ExportButton what="report:staff" query={{ window: '7d' }} label="Export the staff performance report" />)
    expect(screen.getByRole('group', { name: 'Export the staff performance report' })).toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Export Excel' }))
    expect(get).toHaveBeenCalledWith('/api/v1/reports/staff/export', { params: { query: { window: '7d', format: 'xlsx' } }, parseAs: 'blob' })
    expect(exportPath('report:adherence')).toBe('/api/v1/reports/adherence/export')
    expect(exportPath('contacts')).toBe('/api/v1/contacts/export')
  })

  it('downloads from routes the API has', () => {
    const every: Record<keyof ExportQuery, true> = {
      contacts: true, customers: true, refills: true, 'report:conversion': true, 'report:staff': true, 'report:lists': true,
      'report:categories': true, 'report:refills': true, 'report:generics': true, 'report:adherence': true,
    }
    const paths = spec.paths as Record<string, { get?: unknown }>
    for (const what of Object.keys(every) as (keyof ExportQuery)[]) expect([what, paths[exportPath(what)]?.get]).toEqual([what, expect.anything()])
  })

  it('reads the file name the API gives', () => {
    expect(filenameOf('attachment; filename="customers.xlsx"')).toBe('customers.xlsx')
    expect(filenameOf("attachment; filename*=UTF-8''due%20list.csv")).toBe('due list.csv')
    expect(filenameOf(null)).toBeNull()
  })
})
