// Features of the issue whose API routes did not exist yet were placeholders here: a small
// component, already placed where it belongs, rendering nothing until its route existed.
// PENDING_ROUTES listed the routes still missing (pending.test.ts fails as soon as one appears in
// the OpenAPI document, so that its component gets wired then) and AWAITING_UI the placeholders
// whose route exists but whose screen was still to be wired. Every one is wired now: consent,
// profile, refills and exports, then the reports (components/ReportPanels.tsx,
// DailyConversionChart.tsx, YesterdayConversions.tsx) and the contact page's "Send WhatsApp"
// (components/SendWhatsappButton.tsx). A future placeholder goes here with its route.

export const PENDING_ROUTES: Record<string, readonly ['get' | 'post' | 'put' | 'patch', string]> = {}

/** Placeholders whose route exists, with their screen still to be wired (none left). */
export const AWAITING_UI: Record<string, readonly ['get' | 'post' | 'put' | 'patch', string]> = {}
