// The one typed API client. Its types come from the gateway's OpenAPI document
// (scripts/export_openapi.py -> src/api/openapi.json -> `npm run gen-api` -> schema.d.ts), so
// a change of the API that breaks a screen fails `tsc`.
import createClient, { type Middleware } from 'openapi-fetch'
import type { components, paths } from './schema'

export type Schemas = components['schemas']

// Request bodies whose schema has `anyOf` rules beside its properties: openapi-typescript makes
// them a union of the full object and the bare rules; the full object is what a form sends.
export type InteractionBody = Extract<Schemas['InteractionIn'], { type: string }>
export type BillBody = Extract<Schemas['BillIn'], { customer_phone: string }>
// ConsentIn's `anyOf` (at least one channel) makes its generated type `unknown`: the object is this.
export type ConsentBody = Partial<Schemas['ConsentChannels']> & { source: string }

const TOKEN_KEY = 'pharmacy.session'

export interface Session {
  token: string
  expiresAt: number
  user: Schemas['User']
}

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(TOKEN_KEY)
    if (!raw) return null
    const session = JSON.parse(raw) as Session
    return session.expiresAt > Date.now() ? session : null
  } catch {
    return null
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(session))
  else sessionStorage.removeItem(TOKEN_KEY)
}

/** Called when the API answers 401 to a signed-in request (the session ended). */
let onUnauthorized: () => void = () => {}
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler
}

const auth: Middleware = {
  onRequest({ request }) {
    const session = loadSession()
    if (session) request.headers.set('Authorization', `Bearer ${session.token}`)
    return request
  },
  onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has('Authorization')) onUnauthorized()
    return response
  },
}

export const api = createClient<paths>({ baseUrl: '' })
api.use(auth)

/** A problem+json answer (RFC 9457) as an Error: `errors` maps field paths to messages. */
export class ApiError extends Error {
  readonly status: number
  readonly title: string
  readonly detail: string
  readonly errors: Record<string, string[]>

  constructor(status: number, title: string, detail: string, errors: Record<string, string[]> = {}) {
    super(detail || title)
    this.name = 'ApiError'
    this.status = status
    this.title = title
    this.detail = detail
    this.errors = errors
  }

  static from(status: number, body: unknown): ApiError {
    if (body && typeof body === 'object') {
      const problem = body as { title?: unknown; detail?: unknown; errors?: unknown }
      return new ApiError(
        status,
        typeof problem.title === 'string' ? problem.title : `Request failed (${status})`,
        typeof problem.detail === 'string' ? problem.detail : '',
        flattenErrors(problem.errors),
      )
    }
    const text = typeof body === 'string' ? body.slice(0, 300) : ''
    return new ApiError(status, status >= 500 ? 'The server could not answer' : `Request failed (${status})`, text)
  }
}

/** `{"items": {"0": {"amount": ["..."]}}}` -> `{"items.0.amount": ["..."]}`. */
export function flattenErrors(errors: unknown, prefix = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  if (Array.isArray(errors)) {
    const messages = errors.filter((m): m is string => typeof m === 'string')
    if (messages.length) out[prefix || '_schema'] = messages
    errors.forEach((m, i) => {
      if (m && typeof m === 'object') Object.assign(out, flattenErrors(m, prefix ? `${prefix}.${i}` : String(i)))
    })
    return out
  }
  if (errors && typeof errors === 'object') {
    for (const [key, value] of Object.entries(errors as Record<string, unknown>)) {
      Object.assign(out, flattenErrors(value, prefix ? `${prefix}.${key}` : key))
    }
  } else if (typeof errors === 'string') {
    out[prefix || '_schema'] = [errors]
  }
  return out
}

interface FetchResult<T> {
  data?: T
  error?: unknown
  response: Response
}

/** The body of a successful answer, or an ApiError (a network failure too). */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<NonNullable<T>> {
  let result: FetchResult<T>
  try {
    result = await call
  } catch (err) {
    if (err instanceof ApiError) throw err
    throw new ApiError(0, 'No connection', 'The server could not be reached. Check the connection and try again.')
  }
  const { data, error, response } = result
  if (!response.ok) throw ApiError.from(response.status, error)
  return data as NonNullable<T>
}
