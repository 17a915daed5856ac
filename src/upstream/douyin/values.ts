/**
 * Douyin's values as they really come: counts and fen amounts as JSON numbers or as text (the
 * official SDK types every one as a string; the bill is a CSV), now and then a decimal (the
 * legacy `expected_profit` was yuan), times as unix seconds, milliseconds or Beijing wall-clock
 * text, links that are a sentence. One odd value never fails a page: it becomes null, and the
 * row is listed in the answer's warnings.
 */
import { parseInstant } from '../../schemas/dates.js'
import type { RowWarning } from '../../schemas/douyin.js'

/** Most warnings one answer lists (every one is counted in /metrics). */
export const MAX_WARNINGS = 100

/** Told about one odd value: our field, the raw value, why. */
export type Warn = (field: string, raw: unknown, reason: string) => void

/** The warnings of one answer: the first MAX_WARNINGS kept, all counted. */
export class Warnings {
  readonly list: RowWarning[] = []
  total = 0

  constructor (private readonly counted?: (n: number) => void) {}

  /** A Warn for one row. */
  forRow (workId: string, date: string): Warn {
    return (field, raw, reason) => {
      this.total++
      this.counted?.(1)
      if (this.list.length < MAX_WARNINGS) this.list.push({ workId, date, field, value: String(raw).slice(0, 40), reason })
    }
  }

  addAll (list: readonly RowWarning[] | undefined): void {
    for (const w of list ?? []) if (this.list.length < MAX_WARNINGS) this.list.push(w)
  }
}

const DECIMAL = /^[+-]?\d+(\.\d+)?$/
const WHOLE = /^[+-]?\d+$/

/**
 * A count or an amount of integer fen: a JSON number or text of digits, a whole number from 0 to
 * 2^53 - 1 (text with a decimal point is refused: it may be yuan). Absent or empty: null. Anything else: null, and `warn` is told.
 */
export function integerValue (raw: unknown, field: string, warn: Warn): number | null {
  if (raw === null || raw === undefined) return null
  let v: number
  if (typeof raw === 'number') v = raw
  else if (typeof raw === 'string') {
    const text = raw.trim()
    if (text === '') return null
    if (!DECIMAL.test(text)) {
      warn(field, raw, 'not a number')
      return null
    }
    v = Number(text)
    // A whole number written with a decimal point is not plain fen: "12.00" may be yuan (the legacy expected_profit was).
    if (!WHOLE.test(text) && Number.isInteger(v)) {
      warn(field, raw, 'a decimal point where integer fen or a count was expected')
      return null
    }
  } else {
    warn(field, raw, 'not a number')
    return null
  }
  if (!Number.isFinite(v) || !Number.isInteger(v)) {
    warn(field, raw, 'not an integer')
    return null
  }
  if (v < 0 || v > Number.MAX_SAFE_INTEGER) {
    warn(field, raw, 'out of range')
    return null
  }
  return v
}

/**
 * A publication or billing time as unix seconds: unix seconds or milliseconds (number or digits),
 * `YYYY-MM-DD HH:mm[:ss]` (Beijing wall clock, as the bill writes it), or ISO 8601 with a zone.
 * Absent or empty: undefined; unreadable: undefined, and `warn` is told.
 */
export function timeValue (raw: unknown, field: string, warn: Warn): number | undefined {
  if (raw === null || raw === undefined || raw === '') return undefined
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : ''
  const seconds = /^\d{9,13}$/.test(text)
    ? (text.length >= 12 ? Math.floor(Number(text) / 1000) : Number(text))
    : parseInstant(text, false)
  if (seconds === undefined || seconds <= 0) {
    warn(field, raw, 'not a time')
    return undefined
  }
  return seconds
}

/** True for an absolute http(s) URL: what `url` may carry (Douyin's VideoLink can be a sentence). */
export function isHttpUrl (value: string): boolean {
  if (!/^https?:\/\//i.test(value)) return false
  return URL.canParse(value)
}
