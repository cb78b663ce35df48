import { useId, useState } from 'react'

/** A list of short values (conditions, allergies) as removable chips, added one at a time. */
export function ChipsInput({ label, values, onChange, errors = [] }: { label: string; values: string[]; onChange: (values: string[]) => void; errors?: string[] }) {
  const id = useId()
  const [draft, setDraft] = useState('')
  function add() {
    const value = draft.trim()
    if (value && !values.some((v) => v.toLowerCase() === value.toLowerCase())) onChange([...values, value])
    setDraft('')
  }
  return (
    <fieldset className="chips">
      <legend>{label}</legend>
      <ul className="chips__list" aria-label={label}>
        {values.length === 0 && <li className="muted">None recorded</li>}
        {values.map((value) => (
          <li key={value} className="chip">
            {value}
            <button type="button" className="chip__remove" aria-label={`Remove ${value}`} onClick={() => onChange(values.filter((v) => v !== value))}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <div className="chips__add">
        <label htmlFor={id} className="visually-hidden">
          Add to {label}
        </label>
        <input
          id={id}
          value={draft}
          placeholder={`Add to ${label.toLowerCase()}`}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault()
              add()
            }
          }}
          aria-invalid={errors.length ? true : undefined}
        />
        <button type="button" className="btn btn--ghost" onClick={add} disabled={!draft.trim()}>
          Add
        </button>
      </div>
      {errors.length > 0 && <p className="field-error">{errors.join(' ')}</p>}
    </fieldset>
  )
}
