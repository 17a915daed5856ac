/**
 * Turns caller parameters into AiToEarn request targets. Nothing a caller sends can change the
 * path or the host: the platform comes from a closed list, the work id is bounded, free of control
 * characters and percent-encoded as ONE path segment, and the query string is built by hand in the
 * bracket form the server's `qs` parser expects.
 */
import { invalid } from '../../errors.js'
import { PLATFORMS, isPlatform, type Platform } from '../../schemas/metrics.js'

export interface ListWorksParams {
  platform: Platform
  accountId: string
  limit?: number
  cursor?: string
  direction?: 'next' | 'previous'
  page?: number
  pageSize?: number
}

export interface AnalyticsParams {
  platform: Platform
  workId: string
  accountId: string
  /** ISO 8601 date-time (any offset); sent as UTC with `Z`. */
  since?: string
  until?: string
}

/** Page limits of the platforms AiToEarn lists works for (UPSTREAMS.md); checked before the call. */
export const LIST_LIMITS: Partial<Record<Platform, { defaultLimit: number, maxLimit: number }>> = {
  facebook: { defaultLimit: 25, maxLimit: 100 },
  instagram: { defaultLimit: 25, maxLimit: 100 },
  threads: { defaultLimit: 25, maxLimit: 100 },
  pinterest: { defaultLimit: 25, maxLimit: 100 },
  KWAI: { defaultLimit: 20, maxLimit: 200 },
  tiktok: { defaultLimit: 20, maxLimit: 20 },
  twitter: { defaultLimit: 10, maxLimit: 100 },
  youtube: { defaultLimit: 25, maxLimit: 50 }
}
/** The largest limit of any platform: the bound of the route's `limit`. */
export const MAX_LIST_LIMIT = 200
export const MAX_WORK_ID_LENGTH = 256
export const MAX_ACCOUNT_ID_LENGTH = 128
export const MAX_CURSOR_LENGTH = 2048

// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

const invalidRequest = (field: string, message: string) => invalid(field, message, 'request')

/** encodeURIComponent, with a lone surrogate (which makes it throw) as a validation problem. */
function enc (field: string, value: string): string {
  try {
    return encodeURIComponent(value)
  } catch {
    throw invalidRequest(field, 'is not well-formed Unicode')
  }
}

function text (field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidRequest(field, 'is required')
  if (value.length > max) throw invalidRequest(field, `must be at most ${max} characters`)
  if (CONTROL.test(value)) throw invalidRequest(field, 'must not contain control characters')
  return value
}

function platformOf (value: unknown): Platform {
  if (!isPlatform(value)) throw invalidRequest('platform', `must be one of ${PLATFORMS.join(', ')}`)
  return value as Platform
}

function positive (field: string, value: unknown, max: number): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) throw invalidRequest(field, `must be an integer from 1 to ${max}`)
  return value
}

/** The work id as ONE path segment: `..`, `/`, `%2F`, `?`, `#` all stay inside it. */
export function workIdSegment (workId: unknown): string {
  const id = text('workId', workId, MAX_WORK_ID_LENGTH)
  // A dot segment would be resolved away by any normalizing proxy, whatever its encoding.
  if (id === '.' || id === '..') throw invalidRequest('workId', 'must not be "." or ".."')
  return enc('workId', id)
}

export function platformsPath (): string {
  return '/api/v2/channels/platforms'
}

/** `GET /api/v2/channels/works/{platform}?accountId=..&pagination[limit]=..` */
export function listWorksPath (params: ListWorksParams): { path: string, platform: Platform } {
  const platform = platformOf(params.platform)
  const accountId = text('accountId', params.accountId, MAX_ACCOUNT_ID_LENGTH)
  const limit = positive('limit', params.limit, MAX_LIST_LIMIT)
  const page = positive('page', params.page, Number.MAX_SAFE_INTEGER)
  const pageSize = positive('pageSize', params.pageSize, MAX_LIST_LIMIT)
  const cursor = params.cursor === undefined ? undefined : text('cursor', params.cursor, MAX_CURSOR_LENGTH)
  if (params.direction !== undefined && params.direction !== 'next' && params.direction !== 'previous') throw invalidRequest('direction', 'must be next or previous')
  const pageMode = page !== undefined || pageSize !== undefined
  if (pageMode && (limit !== undefined || cursor !== undefined || params.direction !== undefined)) {
    throw invalidRequest('page', 'page/pageSize cannot be combined with limit/cursor/direction')
  }
  if (pageMode && (page === undefined || pageSize === undefined)) throw invalidRequest(page === undefined ? 'page' : 'pageSize', 'page and pageSize go together')
  // AiToEarn's pagination DTO has no "previous" without a cursor (B/platforms/platform-pagination.dto.ts).
  if (params.direction === 'previous' && cursor === undefined) throw invalidRequest('direction', 'previous needs the cursor of a page: pass page.previousCursor as cursor')
  const rules = LIST_LIMITS[platform]
  if (rules && limit !== undefined && limit > rules.maxLimit) {
    throw invalidRequest('limit', `must be at most ${rules.maxLimit} for ${platform}`)
  }
  let query = `accountId=${enc('accountId', accountId)}`
  if (pageMode) {
    query += `&pagination[page]=${page}&pagination[pageSize]=${pageSize}`
  } else {
    if (limit !== undefined) query += `&pagination[limit]=${limit}`
    if (cursor !== undefined) query += `&pagination[cursor]=${enc('cursor', cursor)}`
    if (params.direction !== undefined) query += `&pagination[direction]=${params.direction}`
  }
  return { path: `/api/v2/channels/works/${platform}?${query}`, platform }
}

/** An ISO 8601 date-time (with `Z` or an offset) as epoch ms. */
function isoInstant (field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length > 40 || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i.test(value)) {
    throw invalidRequest(field, 'must be an ISO 8601 date-time with a time zone, e.g. 2026-01-31T00:00:00Z')
  }
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw invalidRequest(field, 'is not a valid date-time')
  return ms
}

/** `GET /api/v2/channels/works/{platform}/{platformWorkId}/analytics?accountId=..&since=..Z&until=..Z` */
export function analyticsPath (params: AnalyticsParams): { path: string, platform: Platform } {
  const platform = platformOf(params.platform)
  const segment = workIdSegment(params.workId)
  const accountId = text('accountId', params.accountId, MAX_ACCOUNT_ID_LENGTH)
  const since = isoInstant('since', params.since)
  const until = isoInstant('until', params.until)
  if (since !== undefined && until !== undefined && since > until) throw invalidRequest('since', 'must not be after until')
  let query = `accountId=${enc('accountId', accountId)}`
  if (since !== undefined) query += `&since=${encodeURIComponent(new Date(since).toISOString())}`
  if (until !== undefined) query += `&until=${encodeURIComponent(new Date(until).toISOString())}`
  return { path: `/api/v2/channels/works/${platform}/${segment}/analytics?${query}`, platform }
}
