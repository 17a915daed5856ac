/**
 * Beijing time (Asia/Shanghai, UTC+8 all year, no daylight saving): Douyin's billing dates and
 * days are Beijing days, whatever the server's or the caller's zone.
 */
export const BEIJING_OFFSET_MS = 8 * 3600 * 1000
export const DAY_S = 86_400

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const INSTANT = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/

/** True for a YYYY-MM-DD that names a real calendar day (no 2024-02-30). */
export function isCalendarDate (s: string): boolean {
  const m = DATE.exec(s)
  if (!m) return false
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3])
}

/** The Beijing date (YYYY-MM-DD) of an instant. */
export function beijingDate (ms: number): string {
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 10)
}

/** Unix seconds of 00:00 Beijing on a date. */
export function beijingStart (date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / 1000 - BEIJING_OFFSET_MS / 1000
}

/** Unix seconds of 23:59:59 Beijing on a date. */
export function beijingEnd (date: string): number {
  return beijingStart(date) + DAY_S - 1
}

export function addDays (date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_S * 1000).toISOString().slice(0, 10)
}

/** Whole days from `a` to `b` (both YYYY-MM-DD). */
export function daysBetween (a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / (DAY_S * 1000))
}

/**
 * Parses a date or an ISO 8601 date-time into unix seconds. A bare date is the start (or, with
 * `endOfDay`, the last second) of that Beijing day; a date-time without a zone is Beijing time.
 * Undefined when it is not one of those forms or not a real date.
 */
export function parseInstant (s: string, endOfDay: boolean): number | undefined {
  const m = INSTANT.exec(s)
  if (!m || !isCalendarDate(m[1]!)) return undefined
  if (m[2] === undefined) return endOfDay ? beijingEnd(m[1]!) : beijingStart(m[1]!)
  const zone = m[3] === undefined ? '+08:00' : m[3] === 'Z' ? 'Z' : `${m[3].slice(0, 3)}:${m[3].slice(-2)}`
  const ms = Date.parse(`${m[1]}T${m[2]}${zone}`)
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000)
}
