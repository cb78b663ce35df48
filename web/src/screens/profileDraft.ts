import type { Schemas } from '../api/client'
import type { Category, Gender } from '../labels'

/** The editable fields of a profile as form values (strings for inputs). */
export interface ProfileDraft {
  name: string
  phone: string
  email: string
  age: string
  gender: Gender | ''
  address: string
  category: Category | ''
  chronic_conditions: string[]
  allergies: string[]
  primary_doctor: string
  prefers_generic: boolean
  generic_education_given: boolean
  special_notes: string
}

export function profileDraft(c: Schemas['Customer']): ProfileDraft {
  return {
    name: c.name ?? '',
    phone: c.phone ?? '',
    email: c.email ?? '',
    age: c.age != null ? String(c.age) : '',
    gender: (c.gender as Gender | null) ?? '',
    address: c.address ?? '',
    category: (c.category as Category | null) ?? '',
    chronic_conditions: c.chronic_conditions ?? [],
    allergies: c.allergies ?? [],
    primary_doctor: c.primary_doctor ?? '',
    prefers_generic: !!c.prefers_generic,
    generic_education_given: !!c.generic_education_given,
    special_notes: c.special_notes ?? '',
  }
}

/** Only what changed, as a PATCH body (an emptied text field becomes null). */
export function profileChanges(c: Schemas['Customer'], d: ProfileDraft): Schemas['CustomerPatch'] {
  const before = profileDraft(c)
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(d) as (keyof ProfileDraft)[]) {
    const a = before[key]
    const b = d[key]
    if (JSON.stringify(a) === JSON.stringify(b)) continue
    if (key === 'age') out.age = b === '' ? null : Number(b)
    else if (typeof b === 'string') out[key] = b.trim() === '' ? null : b.trim()
    else out[key] = b
  }
  return out as Schemas['CustomerPatch']
}
