import { invalid } from '../../errors.js'
import { DAY_S, addDays, beijingDate, beijingEnd, beijingStart, daysBetween, isCalendarDate, parseInstant } from '../../schemas/dates.js'

/** What a caller may ask of the taskbox daily data (the route's querystring, checked by its schema). */
export interface DailyParams {
  billingDate?: string
  billingDateFrom?: string
  billingDateTo?: string
  publishedFrom?: string
  publishedTo?: string
  douyinId?: string
  agencyClientKey?: string
  page?: number
  pageSize?: number
  all?: boolean
}

/** One upstream query without its paging: the body of query_task_video_daily_data minus page_*. */
export interface UpstreamQuery {
  billing_date: string
  video_publish_start_time: number
  video_publish_end_time: number
  douyin_id?: string
  agency_client_key?: string
}

export interface DailyPlan {
  queries: UpstreamQuery[]
  page: number
  pageSize: number
  all: boolean
}

export const LIMITS = {
  /** Douyin: page_size <= 10000. */
  maxPageSize: 10_000,
  defaultPageSize: 100,
  /** Ours: a billing-date range covers at most 31 days (one upstream query per date). */
  maxRangeDays: 31,
  /** Douyin: video_publish_end_time - video_publish_start_time <= 30 days. */
  windowSeconds: 30 * DAY_S,
  /** Douyin: the publish start is no older than 90 days. */
  maxAgeSeconds: 90 * DAY_S,
  /** Kept from the 90-day edge, so that our clock and Douyin's never disagree about it. */
  ageMarginSeconds: 300,
  /** Ours: upstream queries one request may need (dates x 30-day windows), before paging. */
  maxQueries: 100
} as const

function date (field: string, value: string): string {
  if (!isCalendarDate(value)) throw invalid(field, 'must be a real calendar date, YYYY-MM-DD (Beijing)')
  return value
}

/**
 * Checks a request against every limit Douyin enforces (and ours) and turns it into the upstream
 * queries it needs: one per billing date and per publish window of at most 30 days. Throws a 400
 * HttpProblem before any upstream call when something is off. Dates are Beijing dates.
 */
export function planDaily (p: DailyParams, nowMs: number): DailyPlan {
  const today = beijingDate(nowMs)

  // Billing dates: one date, or a range of at most 31 days; default yesterday (data is T+1).
  let dates: string[]
  if (p.billingDate !== undefined && (p.billingDateFrom !== undefined || p.billingDateTo !== undefined)) {
    throw invalid('billingDate', 'cannot be combined with billingDateFrom/billingDateTo')
  }
  if (p.billingDateFrom !== undefined || p.billingDateTo !== undefined) {
    if (p.billingDateFrom === undefined || p.billingDateTo === undefined) {
      throw invalid(p.billingDateFrom === undefined ? 'billingDateFrom' : 'billingDateTo', 'is required with the other end of the range')
    }
    const from = date('billingDateFrom', p.billingDateFrom)
    const to = date('billingDateTo', p.billingDateTo)
    const span = daysBetween(from, to)
    if (span < 0) throw invalid('billingDateFrom', 'must not be after billingDateTo')
    if (span + 1 > LIMITS.maxRangeDays) throw invalid('billingDateTo', `range covers ${span + 1} days; at most ${LIMITS.maxRangeDays}`)
    dates = Array.from({ length: span + 1 }, (_, i) => addDays(from, i))
  } else {
    dates = [p.billingDate === undefined ? addDays(today, -1) : date('billingDate', p.billingDate)]
  }
  const last = dates.at(-1)!
  if (last > today) throw invalid(p.billingDate !== undefined ? 'billingDate' : 'billingDateTo', `is after today in Beijing (${today})`)

  // Publish window: explicit bounds, or the 30 days up to each billing date.
  const earliest = Math.floor(nowMs / 1000) - LIMITS.maxAgeSeconds + LIMITS.ageMarginSeconds
  // Default windows start no earlier than the first Beijing midnight inside the 90 days: the same
  // window all day long, so its answers can be cached (a window moving by the second never hits).
  const earliestDefault = beijingStart(addDays(beijingDate(earliest * 1000), 1))
  const from = p.publishedFrom === undefined ? undefined : parseInstant(p.publishedFrom, false)
  const to = p.publishedTo === undefined ? undefined : parseInstant(p.publishedTo, true)
  if (p.publishedFrom !== undefined && from === undefined) throw invalid('publishedFrom', 'must be a date (YYYY-MM-DD, Beijing) or an ISO 8601 date-time')
  if (p.publishedTo !== undefined && to === undefined) throw invalid('publishedTo', 'must be a date (YYYY-MM-DD, Beijing) or an ISO 8601 date-time')
  if (from !== undefined && from < earliest) {
    throw invalid('publishedFrom', 'is older than 90 days: Douyin only serves videos published in the last 90 days')
  }
  if (from !== undefined && to !== undefined && from > to) throw invalid('publishedFrom', 'must not be after publishedTo')

  // Paging.
  const all = p.all === true
  if (all && p.page !== undefined) throw invalid('page', 'cannot be combined with all=true (all walks every page)')
  const page = p.page ?? 1
  const pageSize = p.pageSize ?? LIMITS.defaultPageSize
  if (!Number.isInteger(page) || page < 1) throw invalid('page', 'must be an integer >= 1')
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > LIMITS.maxPageSize) {
    throw invalid('pageSize', `must be an integer from 1 to ${LIMITS.maxPageSize}`)
  }

  const filters = {
    ...(p.douyinId !== undefined ? { douyin_id: p.douyinId } : {}),
    ...(p.agencyClientKey !== undefined ? { agency_client_key: p.agencyClientKey } : {})
  }
  const queries: UpstreamQuery[] = []
  for (const billingDate of dates) {
    const end = to ?? beijingEnd(billingDate)
    const start = from ?? Math.max(earliestDefault, end - LIMITS.windowSeconds + 1)
    // With a default bound the window can be empty (no video can be published after its billing date).
    if (start > end) continue
    for (let s = start; s <= end; s += LIMITS.windowSeconds) {
      queries.push({
        billing_date: billingDate,
        video_publish_start_time: s,
        video_publish_end_time: Math.min(end, s + LIMITS.windowSeconds - 1),
        ...filters
      })
    }
  }
  if (queries.length === 0 && from === undefined) {
    throw invalid(p.publishedTo !== undefined ? 'publishedTo' : p.billingDate !== undefined ? 'billingDate' : 'billingDateTo',
      'is older than 90 days: Douyin only serves videos published in the last 90 days')
  }
  if (queries.length > LIMITS.maxQueries) {
    throw invalid('billingDateTo', `needs ${queries.length} upstream queries (dates x 30-day publish windows); at most ${LIMITS.maxQueries}: narrow the range or the publish window`)
  }
  return { queries, page, pageSize, all }
}
