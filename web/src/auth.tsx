import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { useQueryClient } from '@tanstack/react-query'
import { loadSession, saveSession, setUnauthorizedHandler, type Session } from './api/client'
import { signIn } from './api/queries'

interface Auth {
  session: Session | null
  isAdmin: boolean
  /** Why the last session ended (shown on the sign-in form). */
  endedReason: string | null
  signIn: (username: string, password: string) => Promise<void>
  signOut: () => void
}

const AuthContext = createContext<Auth | null>(null)

export function AuthProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient()
  const [session, setSession] = useState<Session | null>(() => loadSession())
  const [endedReason, setEndedReason] = useState<string | null>(null)

  const end = useCallback(
    (reason: string | null) => {
      saveSession(null)
      setSession(null)
      setEndedReason(reason)
      client.clear()
    },
    [client],
  )

  useEffect(() => {
    setUnauthorizedHandler(() => end('Your session has ended. Sign in again; what you typed is still on the page.'))
  }, [end])

  const value = useMemo<Auth>(
    () => ({
      session,
      isAdmin: session?.user.role === 'admin',
      endedReason,
      signIn: async (username, password) => {
        const token = await signIn(username, password)
        const next: Session = {
          token: token.access_token ?? '',
          expiresAt: Date.now() + (token.expires_in ?? 3600) * 1000,
          user: token.user ?? {},
        }
        saveSession(next)
        setEndedReason(null)
        setSession(next)
      },
      signOut: () => end(null),
    }),
    [session, endedReason, end],
  )
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext)
  if (!auth) throw new Error('useAuth outside AuthProvider')
  return auth
}

/** The signed-in user (screens are only rendered when someone is signed in). */
export function useUser() {
  const { session, isAdmin } = useAuth()
  return { user: session?.user ?? {}, isAdmin }
}
