/**
 * AiToEarn business codes (HTTP 200, `code !== 0`) as our problems, from the server's own table
 * (libs/common/src/enums/response-code.enum.ts) and what raises each on these endpoints. Caller
 * mistakes become 4xx with the upstream's message; an account whose platform access must be
 * renewed gets its own code, for the dashboard to say "reconnect"; the upstream's failures become
 * 5xx; an unknown code is a 502 that keeps the code in `upstream.code`. Platform errors carry
 * `data: { category, retryable, httpStatus, platformCode }` (B/platforms/platforms.exception.ts),
 * which decides the class of 15070 and whether a retry may help.
 */
import { HttpProblem, type ProblemCode } from '../../errors.js'
import { sample } from '../http.js'

export type Operation = 'platforms' | 'listWorks' | 'analytics'

interface Rule { code: ProblemCode, detail: (ctx: Context) => string, retryAfter?: number, retryable?: boolean }
interface Context { op: Operation, platform?: string, message: string }

const bad = (what: string) => ({ message }: Context) => `${what}${message ? `: ${message}` : ''}`

/** Seconds a caller should wait after the platform's own rate limit was hit (AiToEarn gives none). */
export const PLATFORM_RATE_LIMIT_RETRY_AFTER = 60

const reconnect = (why: string): Rule => ({
  code: 'ACCOUNT_RECONNECT_REQUIRED',
  detail: ({ message }) => `${why}: the account must be reconnected on AiToEarn (authorized again on its platform)${message ? ` (${message})` : ''}`
})

const RULES: Record<number, Rule> = {
  401: { code: 'UPSTREAM_AUTH', detail: () => 'AiToEarn refused the BFF\'s API key (AITOEARN_API_KEY); this is a configuration problem on our side, not the caller\'s' },
  // Every DTO failure is 400 (libs/common/src/utils/exception.util.ts); 10002 only in the docs.
  400: { code: 'VALIDATION_FAILED', detail: bad('AiToEarn rejected the parameters') },
  10002: { code: 'VALIDATION_FAILED', detail: bad('AiToEarn rejected the parameters') },
  // Anything unexpected on the server (libs/common/src/filters/global-exception.filter.ts): may pass.
  500: { code: 'UPSTREAM_ERROR', detail: bad('AiToEarn had an internal error'), retryable: true },
  // Not on these routes today (only infrastructure would say it), handled all the same.
  429: { code: 'UPSTREAM_RATE_LIMITED', detail: bad('AiToEarn asked to slow down'), retryAfter: 5 },
  12600: { code: 'NOT_FOUND', detail: () => 'No such AiToEarn account (accountId)' },
  15001: reconnect('AiToEarn marked the account as not authorized (a credential failed earlier)'),
  15006: reconnect('AiToEarn has no platform credential for this account'),
  15009: reconnect('AiToEarn could not refresh the account\'s platform authorization'),
  15010: reconnect('AiToEarn could not get an access token for the account'),
  15046: reconnect('The account\'s refresh token is missing'),
  15048: reconnect('The account\'s access has been revoked on its platform'),
  15072: reconnect('The platform answered invalid account data (e.g. a YouTube account without a channel)'),
  15076: reconnect('AiToEarn lacks the account\'s platform identity'),
  15078: reconnect('The account lacks a permission on its platform'),
  15032: { code: 'OPERATION_NOT_SUPPORTED', detail: ({ platform }) => `AiToEarn does not offer ${platform ?? 'this platform'} (not registered there)` },
  15079: { code: 'NOT_FOUND', detail: ({ platform }) => platform ? `No such ${platform} work for this account` : 'No such work for this account' },
  15040: { code: 'VALIDATION_FAILED', detail: ({ platform }) => `The account belongs to another platform than ${platform ?? 'the one in the path'}` },
  15088: { code: 'VALIDATION_FAILED', detail: bad('Pagination mode not supported by this platform (use limit/cursor)') },
  15089: { code: 'VALIDATION_FAILED', detail: bad('limit is above the platform\'s maximum') },
  15090: { code: 'VALIDATION_FAILED', detail: bad('pageSize is above the platform\'s maximum') },
  15091: { code: 'VALIDATION_FAILED', detail: bad('direction=previous is not supported by this platform') },
  15080: {
    code: 'OPERATION_NOT_SUPPORTED',
    detail: ({ op, platform }) => op === 'listWorks'
      ? `AiToEarn cannot list ${platform ?? 'this platform\'s'} works: the platform offers no work listing (a normal case for douyin, xhs, wxSph, bilibili, wxGzh, linkedin). Ask for a known work's analytics instead${platform === 'douyin' ? ', or use the Douyin taskbox routes (tag douyin)' : ''}.`
      : `${platform ?? 'This platform'} does not support this operation on AiToEarn`
  },
  15070: { code: 'UPSTREAM_ERROR', detail: bad('The platform\'s own API failed behind AiToEarn') },
  15071: { code: 'UPSTREAM_RATE_LIMITED', detail: bad('The platform\'s own rate limit was hit behind AiToEarn'), retryAfter: PLATFORM_RATE_LIMIT_RETRY_AFTER },
  15074: { code: 'UPSTREAM_ERROR', detail: bad('The platform could not process the media behind AiToEarn') },
  15094: { code: 'UPSTREAM_UNAVAILABLE', detail: bad('The platform\'s service is unavailable behind AiToEarn'), retryAfter: 30, retryable: true },
  16037: { code: 'UPSTREAM_ERROR', detail: bad('AiToEarn requires an authorized account') },
  19001: { code: 'UPSTREAM_UNAVAILABLE', detail: bad('AiToEarn\'s relay server for this account is unavailable'), retryAfter: 5, retryable: true }
}

/** A platform error's class (data.category) when it decides more than the code does. */
const CATEGORY: Record<string, Rule> = {
  rate_limit: { code: 'UPSTREAM_RATE_LIMITED', detail: bad('The platform\'s own rate limit was hit behind AiToEarn'), retryAfter: PLATFORM_RATE_LIMIT_RETRY_AFTER },
  quota: { code: 'UPSTREAM_RATE_LIMITED', detail: bad('The platform\'s quota for AiToEarn is used up'), retryAfter: 3600 },
  auth: reconnect('The platform refused the account\'s authorization'),
  permission: reconnect('The platform refused: the account lacks a permission'),
  not_found: { code: 'NOT_FOUND', detail: ({ platform }) => `The ${platform ?? ''} platform knows no such work`.replace('  ', ' ') },
  platform_unavailable: { code: 'UPSTREAM_UNAVAILABLE', detail: bad('The platform is unavailable behind AiToEarn'), retryAfter: 30 },
  timeout: { code: 'UPSTREAM_UNAVAILABLE', detail: bad('The platform did not answer AiToEarn in time'), retryAfter: 5 },
  network: { code: 'UPSTREAM_UNAVAILABLE', detail: bad('AiToEarn could not reach the platform'), retryAfter: 5 }
}

interface PlatformErrorData { category?: unknown, retryable?: unknown, httpStatus?: unknown, platformCode?: unknown, ttl?: unknown }

/**
 * The problem for an AiToEarn answer with `code !== 0`, and whether asking again may help (the
 * code says so, or its data says `retryable: true`).
 */
export function problemForCode (code: number, message: string | null | undefined, op: Operation, platform: string | undefined, requestId: string | undefined, data?: unknown): { problem: HttpProblem, retryable: boolean } {
  const text = sample(message ?? '', 300)
  const d = (typeof data === 'object' && data !== null ? data : {}) as PlatformErrorData
  const category = typeof d.category === 'string' ? d.category : undefined
  // A platform's "validation" error: for analytics, the id it does not know (Meta's Graph #100);
  // for a listing, what we passed on from the caller (a cursor it did not issue).
  const byCategory = category === 'validation'
    ? (op === 'analytics' ? CATEGORY.not_found : { code: 'VALIDATION_FAILED' as const, detail: bad('The platform refused the request (a cursor it did not issue?)') })
    : category !== undefined ? CATEGORY[category] : undefined
  const rule = (code === 15070 || code === 15074 ? byCategory : undefined) ?? RULES[code] ?? byCategory
  const upstream = {
    name: 'aitoearn',
    code,
    message: text,
    ...(requestId ? { requestId } : {}),
    ...(category ? { category } : {}),
    ...(typeof d.platformCode === 'string' || typeof d.platformCode === 'number' ? { platformCode: String(d.platformCode) } : {})
  }
  const retryable = d.retryable === true || rule?.retryable === true
  if (!rule) return { problem: new HttpProblem('UPSTREAM_ERROR', { detail: `AiToEarn answered code ${code}${text ? `: ${text}` : ''}`, upstream }), retryable }
  const ttl = typeof d.ttl === 'number' && d.ttl > 0 ? Math.ceil(d.ttl > 3600 ? d.ttl / 1000 : d.ttl) : undefined
  const retryAfter = code === 429 ? ttl ?? rule.retryAfter : rule.retryAfter
  return {
    problem: new HttpProblem(rule.code, { detail: rule.detail({ op, platform, message: text }), upstream, ...(retryAfter ? { retryAfter } : {}) }),
    retryable
  }
}

/** An answer that is not HTTP 200 and carries no business code (a proxy's page, a 429, ...). */
export function problemForStatus (status: number, requestId: string | undefined, retryAfter: number | undefined): HttpProblem {
  const upstream = { name: 'aitoearn', code: `HTTP_${status}`, ...(requestId ? { requestId } : {}) }
  if (status === 429) return new HttpProblem('UPSTREAM_RATE_LIMITED', { detail: 'AiToEarn answered HTTP 429', upstream, retryAfter: retryAfter ?? 1 })
  if (status === 401 || status === 403) return new HttpProblem('UPSTREAM_AUTH', { detail: `AiToEarn answered HTTP ${status}: our credentials were refused`, upstream })
  return new HttpProblem('UPSTREAM_ERROR', { detail: `AiToEarn answered HTTP ${status}`, upstream })
}
