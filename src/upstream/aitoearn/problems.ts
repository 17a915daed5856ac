/**
 * AiToEarn business codes (HTTP 200, `code !== 0`) as our problems. Caller mistakes become 4xx
 * with the upstream's message; our own misconfiguration and the upstream's failures become 5xx;
 * an unknown code is a 502 that keeps the code in `upstream.code`.
 */
import { HttpProblem, type ProblemCode } from '../../errors.js'
import { sample } from '../http.js'

export type Operation = 'platforms' | 'listWorks' | 'analytics'

interface Rule { code: ProblemCode, detail: (ctx: Context) => string, retryAfter?: number }
interface Context { op: Operation, platform?: string, message: string }

const bad = (what: string) => ({ message }: Context) => `${what}${message ? `: ${message}` : ''}`

/** Seconds a caller should wait after the platform's own rate limit was hit (AiToEarn gives none). */
export const PLATFORM_RATE_LIMIT_RETRY_AFTER = 60

const RULES: Record<number, Rule> = {
  401: { code: 'UPSTREAM_AUTH', detail: () => 'AiToEarn refused the BFF\'s API key (AITOEARN_API_KEY); this is a configuration problem on our side, not the caller\'s' },
  400: { code: 'VALIDATION_FAILED', detail: bad('AiToEarn rejected the parameters') },
  10002: { code: 'VALIDATION_FAILED', detail: bad('AiToEarn rejected the parameters') },
  12600: { code: 'NOT_FOUND', detail: () => 'No such AiToEarn account (accountId)' },
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
  15006: { code: 'UPSTREAM_ERROR', detail: bad('AiToEarn has no platform credential for this account') },
  15010: { code: 'UPSTREAM_ERROR', detail: bad('AiToEarn could not refresh the platform token of this account') },
  15070: { code: 'UPSTREAM_ERROR', detail: bad('The platform\'s own API failed behind AiToEarn') },
  15071: { code: 'UPSTREAM_RATE_LIMITED', detail: bad('The platform\'s own rate limit was hit behind AiToEarn'), retryAfter: PLATFORM_RATE_LIMIT_RETRY_AFTER },
  15078: { code: 'UPSTREAM_ERROR', detail: bad('The account lacks a permission on its platform') },
  16037: { code: 'UPSTREAM_ERROR', detail: bad('AiToEarn requires an authorized account') }
}

/** The problem for an AiToEarn answer with `code !== 0`. */
export function problemForCode (code: number, message: string | null | undefined, op: Operation, platform: string | undefined, requestId: string | undefined): HttpProblem {
  const text = sample(message ?? '', 300)
  const rule = RULES[code]
  const upstream = { name: 'aitoearn', code, message: text, ...(requestId ? { requestId } : {}) }
  if (!rule) {
    return new HttpProblem('UPSTREAM_ERROR', { detail: `AiToEarn answered code ${code}${text ? `: ${text}` : ''}`, upstream })
  }
  return new HttpProblem(rule.code, {
    detail: rule.detail({ op, platform, message: text }),
    upstream,
    ...(rule.retryAfter ? { retryAfter: rule.retryAfter } : {})
  })
}

/** An answer that is not HTTP 200 and carries no business code (a proxy's page, a 429, ...). */
export function problemForStatus (status: number, requestId: string | undefined, retryAfter: number | undefined): HttpProblem {
  const upstream = { name: 'aitoearn', code: `HTTP_${status}`, ...(requestId ? { requestId } : {}) }
  if (status === 429) return new HttpProblem('UPSTREAM_RATE_LIMITED', { detail: 'AiToEarn answered HTTP 429', upstream, retryAfter: retryAfter ?? 1 })
  if (status === 401 || status === 403) return new HttpProblem('UPSTREAM_AUTH', { detail: `AiToEarn answered HTTP ${status}: our credentials were refused`, upstream })
  return new HttpProblem('UPSTREAM_ERROR', { detail: `AiToEarn answered HTTP ${status}`, upstream })
}
