// Form building blocks: a labelled field showing its problem+json errors, the alert region,
// a button that shows its request running.
import { cloneElement, useId, type ButtonHTMLAttributes, type ReactElement, type ReactNode } from 'react'
import { ApiError } from '../api/client'

/** The messages the API gave for a field (`errors` of a problem+json), or none. */
export function fieldErrors(error: unknown, name: string): string[] {
  if (!(error instanceof ApiError)) return []
  return error.errors[name] ?? []
}

interface FieldProps {
  label: ReactNode
  /** The field's name in the API (its key in a problem's `errors`). */
  name?: string
  error?: unknown
  hint?: ReactNode
  /** Extra messages from checks in the browser. */
  messages?: string[]
  className?: string
  children: ReactElement
}

/** A label, the control, a hint and the field's error messages, linked for assistive technology. */
export function Field({ label, name, error, hint, messages = [], className, children }: FieldProps) {
  const id = useId()
  const all = [...messages, ...(name ? fieldErrors(error, name) : [])]
  const describedBy = [hint ? `${id}-hint` : '', all.length ? `${id}-error` : ''].filter(Boolean).join(' ')
  const control = cloneElement(children, {
    id,
    name: children.props.name ?? name,
    'aria-invalid': all.length ? true : undefined,
    'aria-describedby': describedBy || undefined,
  })
  return (
    <div className={`field ${className ?? ''} ${all.length ? 'field--invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {control}
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {all.length > 0 && (
        <p className="field-error" id={`${id}-error`}>
          {all.join(' ')}
        </p>
      )}
    </div>
  )
}

/** A checkbox with its label after it. */
export function Check({
  label,
  name,
  checked,
  onChange,
  error,
  disabled,
}: {
  label: ReactNode
  name: string
  checked: boolean
  onChange: (checked: boolean) => void
  error?: unknown
  disabled?: boolean
}) {
  const id = useId()
  const errors = fieldErrors(error, name)
  return (
    <div className="check">
      <input
        id={id}
        type="checkbox"
        name={name}
        checked={checked}
        disabled={disabled}
        onChange={(e) => onChange(e.target.checked)}
        aria-invalid={errors.length ? true : undefined}
        aria-describedby={errors.length ? `${id}-error` : undefined}
      />
      <label htmlFor={id}>{label}</label>
      {errors.length > 0 && (
        <p className="field-error" id={`${id}-error`}>
          {errors.join(' ')}
        </p>
      )}
    </div>
  )
}

/** The alert region of a form or screen: the problem's title and detail when a request failed. */
export function ProblemAlert({ error, context }: { error: unknown; context?: string }) {
  let text: ReactNode = null
  if (error instanceof ApiError) {
    const fieldNames = Object.keys(error.errors)
    text = (
      <>
        <strong>{context ? `${context}: ` : ''}{error.title}.</strong> {error.detail}
        {fieldNames.length > 0 && ' Check the fields marked below.'}
      </>
    )
  } else if (error instanceof Error) {
    text = (
      <>
        <strong>{context ? `${context}: ` : ''}Something went wrong.</strong> {error.message}
      </>
    )
  }
  return (
    <div role="alert" className={text ? 'alert alert--error' : 'alert-empty'}>
      {text}
    </div>
  )
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <div role="status" className="alert alert--ok">
      {children}
    </div>
  )
}

interface BusyButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  busy?: boolean
  busyText?: string
}

/** A button disabled while its request runs, saying so. */
export function BusyButton({ busy = false, busyText, children, disabled, className, ...rest }: BusyButtonProps) {
  return (
    <button
      type="button"
      {...rest}
      className={className ?? 'btn'}
      disabled={busy || disabled}
      aria-busy={busy || undefined}
    >
      {busy ? (busyText ?? 'Working…') : children}
    </button>
  )
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {what}…
    </p>
  )
}
