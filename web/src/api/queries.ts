// Data fetching and caching in one place: every screen reads and writes through these hooks.
import { keepPreviousData, useMutation, useQuery, useQueryClient, type QueryKey } from '@tanstack/react-query'
import { api, ApiError, unwrap, type BillBody, type ConsentBody, type InteractionBody, type Schemas } from './client'
import type { paths } from './schema'
import type { ContactStatus, Category, WhatsappStatus, ReportWindow } from '../labels'

export const PER_PAGE = 25

export const keys = {
  me: ['me'] as const,
  staff: ['staff'] as const,
  uploads: ['uploads'] as const,
  upload: (id: number) => ['uploads', id] as const,
  contacts: ['contacts'] as const,
  contact: (id: number) => ['contacts', 'one', id] as const,
  followUps: ['follow-ups'] as const,
  customers: ['customers'] as const,
  customer: (id: number) => ['customers', 'one', id] as const,
  purchases: (id: number) => ['customers', 'one', id, 'purchases'] as const,
  refills: ['refills'] as const,
  reports: ['reports'] as const,
  bills: ['bills'] as const,
  deadLetters: ['dead-letters'] as const,
  audit: ['audit'] as const,
  consent: (phone: string) => ['consent', phone] as const,
  adherence: (id: number) => ['customers', 'one', id, 'adherence'] as const,
}

// -- sign-in --------------------------------------------------------------------------------
export async function signIn(username: string, password: string): Promise<Schemas['Token']> {
  return unwrap(api.POST('/api/v1/auth/login', { body: { username, password } }))
}

// -- staff ----------------------------------------------------------------------------------
export function useStaff(enabled = true) {
  return useQuery({
    queryKey: keys.staff,
    enabled,
    queryFn: () => unwrap(api.GET('/api/v1/staff', { params: { query: { per_page: 200 } } })),
    staleTime: 60_000,
  })
}

/** `{id: name}` of every staff member (admins only; staff members get an empty map). */
export function useStaffNames(isAdmin: boolean): Map<number, string> {
  const { data } = useStaff(isAdmin)
  return new Map((data?.items ?? []).map((s) => [s.id ?? 0, s.name ?? s.username ?? '']))
}

export function useCreateStaff() {
  return useMutationInvalidating([keys.staff], (body: Schemas['StaffIn']) =>
    unwrap(api.POST('/api/v1/staff', { body })),
  )
}

export function useUpdateStaff() {
  return useMutationInvalidating([keys.staff], ({ id, ...body }: Schemas['StaffPatch'] & { id: number }) =>
    unwrap(api.PATCH('/api/v1/staff/{staff_id}', { params: { path: { staff_id: id } }, body })),
  )
}

// -- uploads --------------------------------------------------------------------------------
export function useUploads(page: number, enabled = true) {
  return useQuery({
    queryKey: [...keys.uploads, 'page', page],
    enabled,
    queryFn: () => unwrap(api.GET('/api/v1/contacts/uploads', { params: { query: { page, per_page: 10 } } })),
    placeholderData: keepPreviousData,
  })
}

export function useUpload(id: number | null, poll: boolean) {
  return useQuery({
    queryKey: keys.upload(id ?? 0),
    enabled: id != null,
    queryFn: () =>
      unwrap(api.GET('/api/v1/contacts/uploads/{upload_id}', { params: { path: { upload_id: id ?? 0 } } })),
    refetchInterval: poll ? 700 : false,
  })
}

export interface UploadInput {
  file: File
  listName: string
  assignTo: number[]
}

export interface UploadAnswer {
  upload: Schemas['Upload']
  /** 202: imported in the background; poll this upload until it is completed or failed. */
  inBackground: boolean
  location: string | null
}

export function useUploadContacts() {
  return useMutationInvalidating([keys.uploads, keys.contacts], async (input: UploadInput): Promise<UploadAnswer> => {
    const form = new FormData()
    form.append('file', input.file)
    if (input.listName.trim()) form.append('list_name', input.listName.trim())
    if (input.assignTo.length) form.append('assign_to', input.assignTo.join(','))
    const call = api.POST('/api/v1/contacts/uploads', {
      // The multipart body is built here; the schema types the file as a string.
      body: {} as Schemas['UploadFile'],
      bodySerializer: () => form,
      headers: { 'Idempotency-Key': crypto.randomUUID() },
    })
    const result = await call
    const upload = await unwrap(Promise.resolve(result))
    return {
      upload,
      inBackground: result.response.status === 202,
      location: result.response.headers.get('Location'),
    }
  })
}

export async function downloadUploadErrors(uploadId: number, format: 'csv' | 'xlsx'): Promise<Blob> {
  return unwrap(
    api.GET('/api/v1/contacts/uploads/{upload_id}/errors', {
      params: { path: { upload_id: uploadId }, query: { format } },
      parseAs: 'blob',
    }),
  ) as Promise<Blob>
}

// -- contacts -------------------------------------------------------------------------------
export interface ContactFilters {
  status?: ContactStatus | ''
  whatsapp_status?: WhatsappStatus | ''
  assigned_to?: number | null
  upload_id?: number | null
  q?: string
  page: number
  per_page?: number
}

function clean<T extends object>(query: T): T {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== '' && v != null)) as T
}

export function useContacts(filters: ContactFilters) {
  return useQuery({
    queryKey: [...keys.contacts, 'list', filters],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/contacts', {
          params: {
            query: clean({
              status: filters.status || undefined,
              whatsapp_status: filters.whatsapp_status || undefined,
              assigned_to: filters.assigned_to ?? undefined,
              upload_id: filters.upload_id ?? undefined,
              q: filters.q || undefined,
              page: filters.page,
              per_page: filters.per_page ?? PER_PAGE,
            }),
          },
        }),
      ),
    placeholderData: keepPreviousData,
  })
}

export function useContact(id: number) {
  return useQuery({
    queryKey: keys.contact(id),
    queryFn: () => unwrap(api.GET('/api/v1/contacts/{contact_id}', { params: { path: { contact_id: id } } })),
  })
}

const contactKeys: QueryKey[] = [keys.contacts, keys.followUps, keys.reports]

export function useLogInteraction(contactId: number) {
  return useMutationInvalidating(contactKeys, (body: InteractionBody) =>
    unwrap(
      api.POST('/api/v1/contacts/{contact_id}/interactions', {
        params: { path: { contact_id: contactId } },
        body,
        headers: { 'Idempotency-Key': crypto.randomUUID() },
      }),
    ),
  )
}

export function useConvertContact(contactId: number) {
  return useMutationInvalidating(contactKeys, (body: Schemas['ConvertIn']) =>
    unwrap(api.POST('/api/v1/contacts/{contact_id}/convert', { params: { path: { contact_id: contactId } }, body })),
  )
}

export function useYellowContact(contactId: number) {
  return useMutationInvalidating(contactKeys, (body: Schemas['YellowIn']) =>
    unwrap(api.POST('/api/v1/contacts/{contact_id}/yellow', { params: { path: { contact_id: contactId } }, body })),
  )
}

export function useUpdateContact() {
  return useMutationInvalidating(contactKeys, ({ id, ...body }: Schemas['ContactPatch'] & { id: number }) =>
    unwrap(api.PATCH('/api/v1/contacts/{contact_id}', { params: { path: { contact_id: id } }, body })),
  )
}

/** "Send WhatsApp": logs a whatsapp interaction (pending -> contacted) and answers the wa.me link. */
export function useSendContactWhatsapp(contactId: number) {
  return useMutationInvalidating(contactKeys, (body: Schemas['WhatsappIn']) =>
    unwrap(
      api.POST('/api/v1/contacts/{contact_id}/whatsapp', {
        params: { path: { contact_id: contactId } },
        body,
        headers: { 'Idempotency-Key': crypto.randomUUID() },
      }),
    ),
  )
}

export function useFollowUps(dueWithinDays: number, page = 1) {
  return useQuery({
    queryKey: [...keys.followUps, dueWithinDays, page],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/contacts/follow-ups', {
          params: { query: { due_within_days: dueWithinDays, page, per_page: PER_PAGE } },
        }),
      ),
  })
}

export function useFollowUpDone() {
  return useMutationInvalidating([keys.followUps, keys.contacts], (id: number) =>
    unwrap(api.POST('/api/v1/contacts/follow-ups/{follow_up_id}/done', { params: { path: { follow_up_id: id } } })),
  )
}

// -- customers ------------------------------------------------------------------------------
export function useCustomers(filters: { category?: Category | ''; q?: string; page: number }) {
  return useQuery({
    queryKey: [...keys.customers, 'list', filters],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/customers', {
          params: {
            query: clean({
              category: filters.category || undefined,
              q: filters.q || undefined,
              page: filters.page,
              per_page: PER_PAGE,
            }),
          },
        }),
      ),
    placeholderData: keepPreviousData,
  })
}

export function useCustomer(id: number) {
  return useQuery({
    queryKey: keys.customer(id),
    queryFn: () => unwrap(api.GET('/api/v1/customers/{customer_id}', { params: { path: { customer_id: id } } })),
  })
}

export function useUpdateCustomer(id: number) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: Schemas['CustomerPatch']) =>
      unwrap(api.PATCH('/api/v1/customers/{customer_id}', { params: { path: { customer_id: id } }, body })),
    onSuccess: (customer) => {
      client.setQueryData(keys.customer(id), customer)
      void client.invalidateQueries({ queryKey: [...keys.customers, 'list'] })
    },
  })
}

export function usePurchases(customerId: number, page: number) {
  return useQuery({
    queryKey: [...keys.purchases(customerId), page],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/customers/{customer_id}/purchases', {
          params: { path: { customer_id: customerId }, query: { page, per_page: 10 } },
        }),
      ),
    placeholderData: keepPreviousData,
  })
}

/** The customer of a phone, once the customers service has consumed the bill (404 until then). */
export async function customerByPhone(phone: string): Promise<Schemas['Customer'] | null> {
  try {
    return await unwrap(api.GET('/api/v1/customers/by-phone/{phone}', { params: { path: { phone } } }))
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null
    throw err
  }
}

// -- consent --------------------------------------------------------------------------------
export function useConsentHistory(phone: string, page: number) {
  return useQuery({
    queryKey: [...keys.consent(phone), 'history', page],
    queryFn: () =>
      unwrap(api.GET('/api/v1/consent/{phone}/history', { params: { path: { phone }, query: { page, per_page: 10 } } })),
    placeholderData: keepPreviousData,
  })
}

/** Consent is one record per phone, shown on customers, contacts and reminders. */
export function useSetConsent(phone: string) {
  return useMutationInvalidating([keys.consent(phone), keys.customers, keys.refills, keys.contacts], (body: ConsentBody) =>
    unwrap(api.PUT('/api/v1/consent/{phone}', { params: { path: { phone } }, body })),
  )
}

// -- adherence ------------------------------------------------------------------------------
export function useAdherence(customerId: number, days = 180) {
  return useQuery({
    queryKey: [...keys.adherence(customerId), days],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/customers/{customer_id}/adherence', {
          params: { path: { customer_id: customerId }, query: { days } },
        }),
      ),
  })
}

// -- exports --------------------------------------------------------------------------------
export type ExportFormat = 'csv' | 'xlsx'
/** The reports that have an export (GET /reports/{report}/export). */
export type ReportName = 'conversion' | 'staff' | 'lists' | 'categories' | 'refills' | 'generics' | 'adherence'
export type AdherenceDays = 90 | 180 | 365

export interface ExportQuery {
  contacts: Omit<ContactFilters, 'page' | 'per_page'>
  customers: { category?: Category | ''; q?: string }
  refills: { days_ahead?: 0 | 7 | 14 | 30; status?: RefillListStatus }
  'report:conversion': { window: ReportWindow }
  'report:staff': { window: ReportWindow }
  'report:lists': { window: ReportWindow }
  'report:categories': { window: ReportWindow }
  'report:refills': { window: ReportWindow }
  'report:generics': { window: ReportWindow }
  'report:adherence': { threshold: number; days: AdherenceDays }
}

/** The export route of a list or a report. */
export function exportPath(what: keyof ExportQuery): string {
  if (what === 'contacts') return '/api/v1/contacts/export'
  if (what === 'customers') return '/api/v1/customers/export'
  if (what === 'refills') return '/api/v1/reminders/refills/export'
  return `/api/v1/reports/${what.slice('report:'.length)}/export`
}

/** A list as a file, fetched with the bearer token (a plain link cannot send it). */
export async function exportList<W extends keyof ExportQuery>(
  what: W,
  format: ExportFormat,
  query: ExportQuery[W],
): Promise<{ blob: Blob; filename: string | null }> {
  const q = clean({ ...(query as object), format })
  // Every export route answers a file for `format` and its list's filters; the path is one of them.
  const path = exportPath(what) as '/api/v1/contacts/export'
  const call = api.GET(path, { params: { query: q as never }, parseAs: 'blob' })
  let response: Response | undefined
  const blob = (await unwrap(
    call.then((result) => {
      response = result.response
      return result
    }),
  )) as unknown as Blob
  return { blob, filename: filenameOf(response?.headers.get('Content-Disposition') ?? null) }
}

/** `attachment; filename="customers.csv"` -> "customers.csv". */
export function filenameOf(disposition: string | null): string | null {
  if (!disposition) return null
  const star = /filename\*=(?:UTF-8'')?([^;]+)/i.exec(disposition)
  if (star) return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''))
  const plain = /filename="?([^";]+)"?/i.exec(disposition)
  return plain ? plain[1].trim() : null
}

// -- refill reminders -----------------------------------------------------------------------
/** '' = still due (open or responded), the API's default. */
export type RefillListStatus = '' | 'open' | 'responded' | 'purchased' | 'all'

export interface RefillFilters {
  days_ahead?: 0 | 7 | 14 | 30
  status: RefillListStatus
  customer_id?: number
  page: number
}

export function useRefills(filters: RefillFilters) {
  return useQuery({
    queryKey: [...keys.refills, filters],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/reminders/refills', {
          params: {
            query: clean({
              days_ahead: filters.days_ahead,
              status: filters.status || undefined,
              customer_id: filters.customer_id != null ? String(filters.customer_id) : undefined,
              page: filters.page,
              per_page: PER_PAGE,
            }),
          },
        }),
      ),
    placeholderData: keepPreviousData,
  })
}

export async function refillsOfCustomer(customerId: number) {
  return unwrap(
    api.GET('/api/v1/reminders/refills', {
      params: { query: { customer_id: String(customerId), status: 'all', per_page: 50 } },
    }),
  )
}

const refillKeys: QueryKey[] = [keys.refills, keys.reports]

/** "Set refill reminder" on a profile: a reminder set by hand. */
export function useCreateRefillReminder() {
  return useMutationInvalidating(refillKeys, (body: Schemas['ReminderByHandIn']) =>
    unwrap(api.POST('/api/v1/reminders/refills', { body, headers: { 'Idempotency-Key': crypto.randomUUID() } })),
  )
}

export function useRefillWhatsapp() {
  return useMutationInvalidating(refillKeys, (id: number) =>
    unwrap(api.POST('/api/v1/reminders/refills/{reminder_id}/whatsapp', { params: { path: { reminder_id: id } } })),
  )
}

export function useRefillCall() {
  return useMutationInvalidating(refillKeys, ({ id, ...body }: Schemas['CallIn'] & { id: number }) =>
    unwrap(api.POST('/api/v1/reminders/refills/{reminder_id}/call', { params: { path: { reminder_id: id } }, body })),
  )
}

export function useRefillResponse() {
  return useMutationInvalidating(refillKeys, ({ id, ...body }: Schemas['ResponseIn'] & { id: number }) =>
    unwrap(
      api.POST('/api/v1/reminders/refills/{reminder_id}/response', { params: { path: { reminder_id: id } }, body }),
    ),
  )
}

export function useRefillPurchased() {
  return useMutationInvalidating(refillKeys, (id: number) =>
    unwrap(api.POST('/api/v1/reminders/refills/{reminder_id}/purchased', { params: { path: { reminder_id: id } } })),
  )
}

// -- reports --------------------------------------------------------------------------------
export function useConversionReport(window: ReportWindow) {
  return useQuery({
    queryKey: [...keys.reports, 'conversion', window],
    queryFn: () => unwrap(api.GET('/api/v1/reports/conversion', { params: { query: { window } } })),
  })
}

export function useStaffReport(window: ReportWindow) {
  return useQuery({
    queryKey: [...keys.reports, 'staff', window],
    queryFn: () => unwrap(api.GET('/api/v1/reports/staff', { params: { query: { window } } })),
  })
}

export function useCategoryReport(window: ReportWindow) {
  return useQuery({
    queryKey: [...keys.reports, 'categories', window],
    queryFn: () => unwrap(api.GET('/api/v1/reports/categories', { params: { query: { window } } })),
  })
}

export function useRefillReport(window: ReportWindow) {
  return useQuery({
    queryKey: [...keys.reports, 'refills', window],
    queryFn: () => unwrap(api.GET('/api/v1/reports/refills', { params: { query: { window } } })),
  })
}

export function useListReport(window: ReportWindow, page: number) {
  return useQuery({
    queryKey: [...keys.reports, 'lists', window, page],
    queryFn: () => unwrap(api.GET('/api/v1/reports/lists', { params: { query: { window, page, per_page: 10 } } })),
    placeholderData: keepPreviousData,
  })
}

export function useDailyConversion(window: ReportWindow) {
  return useQuery({
    queryKey: [...keys.reports, 'conversion', 'daily', window],
    queryFn: () => unwrap(api.GET('/api/v1/reports/conversion/daily', { params: { query: { window } } })),
  })
}

export function useGenericsReport(window: ReportWindow) {
  return useQuery({
    queryKey: [...keys.reports, 'generics', window],
    queryFn: () => unwrap(api.GET('/api/v1/reports/generics', { params: { query: { window } } })),
  })
}

export function useAdherenceReport(filters: { threshold: number; days: AdherenceDays; page: number }) {
  return useQuery({
    queryKey: [...keys.reports, 'adherence', filters],
    queryFn: () =>
      unwrap(api.GET('/api/v1/reports/adherence', { params: { query: { ...filters, per_page: PER_PAGE } } })),
    placeholderData: keepPreviousData,
  })
}

// -- billing --------------------------------------------------------------------------------
export function useCreateBill() {
  return useMutationInvalidating([keys.bills, keys.customers, keys.refills, keys.contacts, keys.reports], (body: BillBody) =>
    unwrap(api.POST('/api/v1/bills', { body, headers: { 'Idempotency-Key': crypto.randomUUID() } })),
  )
}

// -- operations -----------------------------------------------------------------------------
export type DeadLetterStatus = 'archived' | 'replayed' | 'all'

export function useDeadLetters(status: DeadLetterStatus) {
  return useQuery({
    queryKey: [...keys.deadLetters, status],
    queryFn: () => unwrap(api.GET('/api/v1/admin/dead-letters', { params: { query: { status, per_page: 50 } } })),
  })
}

/** The services that keep dead letters (the replay route's path parameter). */
export type DeadLetterService = paths['/api/v1/admin/dead-letters/{service}/replay']['post']['parameters']['path']['service']

export function useReplayDeadLetters() {
  return useMutationInvalidating([keys.deadLetters], ({ service, ids }: { service: DeadLetterService; ids?: number[] }) =>
    unwrap(
      api.POST('/api/v1/admin/dead-letters/{service}/replay', {
        params: { path: { service } },
        body: (ids?.length ? { ids } : {}) as never,
      }),
    ),
  )
}

export interface AuditFilters {
  subject?: number
  user?: string
  from?: string
  to?: string
  page: number
}

export function useAudit(filters: AuditFilters) {
  return useQuery({
    queryKey: [...keys.audit, filters],
    queryFn: () => unwrap(api.GET('/api/v1/admin/audit', { params: { query: clean({ ...filters, per_page: PER_PAGE }) } })),
    placeholderData: keepPreviousData,
  })
}

// -- helpers --------------------------------------------------------------------------------
function useMutationInvalidating<TInput, TOutput>(invalidate: QueryKey[], mutationFn: (input: TInput) => Promise<TOutput>) {
  const client = useQueryClient()
  return useMutation<TOutput, ApiError, TInput>({
    mutationFn,
    onSuccess: () => {
      for (const queryKey of invalidate) void client.invalidateQueries({ queryKey })
    },
  })
}
