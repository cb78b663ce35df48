import { useState, type FormEvent } from 'react'
import type { Schemas } from '../api/client'
import { useCreateStaff, useStaff, useUpdateStaff } from '../api/queries'
import { Dialog } from '../components/Dialog'
import { BusyButton, Check, Field, Loading, Notice, ProblemAlert } from '../components/forms'
import { Badge, Empty, Panel, Screen } from '../components/Screen'
import { formatDateTime } from '../format'
import { ROLE, keys as labelKeys, label, type Role } from '../labels'

export function Staff() {
  const staff = useStaff()
  const [editing, setEditing] = useState<Schemas['Staff'] | null>(null)
  return (
    <Screen title="Staff" intro="Staff members work the contacts assigned to them; admins also upload lists and manage staff.">
      <div className="grid-2">
        <Panel title="Staff members" id="staff-list-title">
          <ProblemAlert error={staff.error} />
          {staff.isPending ? (
            <Loading what="Loading staff" />
          ) : staff.data?.items?.length ? (
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">Staff members and admins</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Username</th>
                    <th scope="col">Role</th>
                    <th scope="col">Active</th>
                    <th scope="col">Added</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {staff.data.items.map((s) => (
                    <tr key={s.id}>
                      <td>{s.name}</td>
                      <td>{s.username}</td>
                      <td>{label(ROLE, s.role)}</td>
                      <td>{s.active ? <Badge tone="good">Active</Badge> : <Badge tone="bad">Disabled</Badge>}</td>
                      <td>{formatDateTime(s.created_at)}</td>
                      <td>
                        <button type="button" className="btn btn--small" onClick={() => setEditing(s)} aria-label={`Edit ${s.name}`}>
                          Edit
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <Empty>No staff yet.</Empty>
          )}
        </Panel>
        <Panel title="Add a staff member" id="staff-add-title">
          <AddStaff />
        </Panel>
      </div>
      <Dialog title={`Edit ${editing?.name ?? ''}`} open={editing != null} onClose={() => setEditing(null)}>
        {editing && <EditStaff member={editing} onDone={() => setEditing(null)} />}
      </Dialog>
    </Screen>
  )
}

function AddStaff() {
  const create = useCreateStaff()
  const empty = { username: '', name: '', password: '', role: 'staff' as Role }
  const [form, setForm] = useState(empty)
  const [added, setAdded] = useState<string | null>(null)
  function submit(event: FormEvent) {
    event.preventDefault()
    setAdded(null)
    create.mutate(form, {
      onSuccess: (s) => {
        setAdded(`${s.name} can now sign in as ${s.username}.`)
        setForm(empty)
      },
    })
  }
  const e = create.error
  return (
    <form onSubmit={submit} noValidate aria-labelledby="staff-add-title">
      <ProblemAlert error={e} context="Not added" />
      <Field label="Name" name="name" error={e}>
        <input required value={form.name} onChange={(ev) => setForm({ ...form, name: ev.target.value })} />
      </Field>
      <Field label="Username" name="username" error={e}>
        <input required autoComplete="off" value={form.username} onChange={(ev) => setForm({ ...form, username: ev.target.value })} />
      </Field>
      <Field label="Password" name="password" error={e}>
        <input required type="password" autoComplete="new-password" value={form.password} onChange={(ev) => setForm({ ...form, password: ev.target.value })} />
      </Field>
      <Field label="Role" name="role" error={e}>
        <select value={form.role} onChange={(ev) => setForm({ ...form, role: ev.target.value as Role })}>
          {labelKeys(ROLE).map((r) => (
            <option key={r} value={r}>
              {ROLE[r]}
            </option>
          ))}
        </select>
      </Field>
      <BusyButton type="submit" className="btn btn--primary" busy={create.isPending} busyText="Adding…">
        Add staff member
      </BusyButton>
      {added && <Notice>{added}</Notice>}
    </form>
  )
}

function EditStaff({ member, onDone }: { member: Schemas['Staff']; onDone: () => void }) {
  const update = useUpdateStaff()
  const [name, setName] = useState(member.name ?? '')
  const [role, setRole] = useState<Role>((member.role as Role) ?? 'staff')
  const [active, setActive] = useState(!!member.active)
  const [password, setPassword] = useState('')
  function submit(event: FormEvent) {
    event.preventDefault()
    const body: Schemas['StaffPatch'] = {}
    if (name !== member.name) body.name = name
    if (role !== member.role) body.role = role
    if (active !== member.active) body.active = active
    if (password) body.password = password
    update.mutate({ id: member.id ?? 0, ...body }, { onSuccess: onDone })
  }
  const e = update.error
  return (
    <form onSubmit={submit} noValidate>
      <ProblemAlert error={e} context="Not saved" />
      <Field label="Name" name="name" error={e}>
        <input value={name} onChange={(ev) => setName(ev.target.value)} />
      </Field>
      <Field label="Role" name="role" error={e}>
        <select value={role} onChange={(ev) => setRole(ev.target.value as Role)}>
          {labelKeys(ROLE).map((r) => (
            <option key={r} value={r}>
              {ROLE[r]}
            </option>
          ))}
        </select>
      </Field>
      <Check label="Active (can sign in)" name="active" checked={active} onChange={setActive} error={e} />
      <Field label="New password" name="password" error={e} hint="Leave empty to keep the current password.">
        <input type="password" autoComplete="new-password" value={password} onChange={(ev) => setPassword(ev.target.value)} />
      </Field>
      <div className="form-actions">
        <BusyButton type="submit" className="btn btn--primary" busy={update.isPending} busyText="Saving…">
          Save
        </BusyButton>
        <button type="button" className="btn btn--ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  )
}
