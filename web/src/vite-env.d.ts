/// <reference types="vite/client" />

interface ImportMetaEnv {
  readonly VITE_PHARMACY_TZ?: string
}
