import { ApiError, flattenErrors, unwrap } from './client'

describe('problem+json', () => {
  it('flattens nested field errors to dotted names', () => {
    expect(flattenErrors({ customer_phone: ['Not a valid phone.'], items: { 0: { amount: ['Too small.'] } } })).toEqual({
      customer_phone: ['Not a valid phone.'],
      'items.0.amount': ['Too small.'],
    })
  })

  it('becomes an ApiError with title, detail and errors', async () => {
    const body = { type: 'about:blank', title: 'Validation failed', status: 422, detail: 'the request has invalid fields: type', errors: { type: ['Must be one of: call.'] } }
    const failing = Promise.resolve({ error: body, response: new Response(null, { status: 422 }) })
    const error = await unwrap(failing).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 422, title: 'Validation failed', errors: { type: ['Must be one of: call.'] } })
  })

  it('reports a network failure in words', async () => {
    const error = await unwrap(Promise.reject(new TypeError('Failed to fetch'))).catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 0, title: 'No connection' })
  })
})
