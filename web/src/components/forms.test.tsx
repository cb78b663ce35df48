import { render, screen } from '@testing-library/react'
import { ApiError } from '../api/client'
import { Field, ProblemAlert } from './forms'

describe('form errors from problem+json', () => {
  const error = new ApiError(422, 'Validation failed', 'the request has invalid fields: customer_phone', {
    customer_phone: ['Not a valid phone number.'],
  })

  it('shows the message next to the field it names and marks the field invalid', () => {
    render(
      <Field label="Customer phone" name="customer_phone" error={error}>
        <input defaultValue="12" />
      </Field>,
    )
    const input = screen.getByLabelText('Customer phone')
    expect(input).toHaveAttribute('aria-invalid', 'true')
    expect(input).toHaveAccessibleDescription('Not a valid phone number.')
    expect(input).toHaveValue('12')
  })

  it('leaves other fields alone', () => {
    render(
      <Field label="Customer name" name="customer_name" error={error}>
        <input />
      </Field>,
    )
    expect(screen.getByLabelText('Customer name')).not.toHaveAttribute('aria-invalid')
  })

  it('puts the title and detail in an alert region', () => {
    render(<ProblemAlert error={error} context="The bill was not created" />)
    expect(screen.getByRole('alert')).toHaveTextContent('The bill was not created: Validation failed. the request has invalid fields: customer_phone')
  })
})
