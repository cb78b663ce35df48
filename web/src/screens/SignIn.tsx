import { useState, type FormEvent } from 'react'
import { useAuth } from '../auth'
import { BusyButton, Field, ProblemAlert } from '../components/forms'

export function SignIn() {
  const { signIn, endedReason } = useAuth()
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)

  async function submit(event: FormEvent) {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await signIn(username, password)
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }

  return (
    <main id="main" className="signin">
      <form className="card signin__card" onSubmit={submit} aria-labelledby="signin-title">
        <p className="brand">
          <span className="brand__mark" aria-hidden="true">
            ✚
          </span>{' '}
          Customer Tracking
        </p>
        <h1 id="signin-title">Sign in</h1>
        {endedReason && <p className="alert alert--info">{endedReason}</p>}
        <ProblemAlert error={error} />
        <Field label="Username" name="username" error={error}>
          <input autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
        </Field>
        <Field label="Password" name="password" error={error}>
          <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <BusyButton type="submit" className="btn btn--primary" busy={busy} busyText="Signing in…">
          Sign in
        </BusyButton>
      </form>
    </main>
  )
}
