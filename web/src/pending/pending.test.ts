import spec from '../api/openapi.json'
import * as pending from '.'
import { AWAITING_UI, PENDING_ROUTES } from '.'

const paths = spec.paths as Record<string, Record<string, unknown>>
const placeholders = Object.keys(pending).filter((name) => /^[A-Z][a-z]/.test(name))

// A placeholder waits for a route; once the route is in the API, wire the component and remove
// the placeholder (this test then fails to say so).
describe('features waiting for their API', () => {
  it('still have no route in the API, listed in the form [method, path]', () => {
    for (const [component, [method, path]] of Object.entries(PENDING_ROUTES)) {
      expect([component, path.startsWith('/api/v1/')]).toEqual([component, true])
      expect([component, paths[path]?.[method]]).toEqual([component, undefined])
    }
  })
})

describe('features whose API exists and whose screen is still a placeholder', () => {
  it('have their route in the API', () => {
    for (const [component, [method, path]] of Object.entries(AWAITING_UI)) expect([component, paths[path]?.[method]]).toEqual([component, expect.anything()])
  })
})

describe('the placeholders', () => {
  it('are each listed with the route they wait for, and nothing else is listed', () => {
    expect(placeholders.sort()).toEqual([...Object.keys(PENDING_ROUTES), ...Object.keys(AWAITING_UI)].sort())
  })

  it('are gone for the routes of the issue that exist now (they are wired in the screens)', () => {
    const wired = [
      ['post', '/api/v1/contacts/{contact_id}/whatsapp'],
      ['get', '/api/v1/reports/generics'],
      ['get', '/api/v1/reports/lists'],
      ['get', '/api/v1/reports/conversion/daily'],
      ['get', '/api/v1/reports/adherence'],
      ['get', '/api/v1/reports/conversion/export'],
    ] as const
    const listed = [...Object.values(PENDING_ROUTES), ...Object.values(AWAITING_UI)].map(([m, p]) => `${m} ${p}`)
    for (const [method, path] of wired) {
      expect(paths[path]?.[method]).toBeDefined()
      expect(listed).not.toContain(`${method} ${path}`)
    }
  })
})
