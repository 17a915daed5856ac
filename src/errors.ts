import type { Problem } from './schemas/problem.js'
import { secrets } from './secrets.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8'

/**
 * Every problem code this service answers, with its HTTP status and title. Callers switch on
 * `code`; the catalogue is the single place that says what each one means.
 */
export const PROBLEMS = {
  VALIDATION_FAILED: [400, 'The request is invalid'],
  INVALID_BODY: [400, 'The request body is not valid'],
  UNAUTHORIZED: [401, 'Authentication required'],
  NOT_FOUND: [404, 'Not found'],
  ROUTE_NOT_FOUND: [404, 'No such route'],
  METHOD_NOT_ALLOWED: [405, 'Method not allowed'],
  NOT_ACCEPTABLE: [406, 'Not acceptable'],
  REQUEST_TIMEOUT: [408, 'The request did not arrive in time'],
  PAYLOAD_TOO_LARGE: [413, 'Payload too large'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'Unsupported media type'],
  HEADERS_TOO_LARGE: [431, 'Request line and headers too large'],
  ACCOUNT_RECONNECT_REQUIRED: [409, 'The account must be reconnected on its platform'],
  OPERATION_NOT_SUPPORTED: [422, 'The platform does not support this operation'],
  RESULT_TOO_LARGE: [422, 'The answer would be larger than one request may pull'],
  RATE_LIMITED: [429, 'Too many requests'],
  INTERNAL_ERROR: [500, 'Internal error'],
  UPSTREAM_ERROR: [502, 'The upstream failed'],
  UPSTREAM_AUTH: [502, 'The upstream refused our credentials'],
  UPSTREAM_CAPABILITY_MISSING: [502, 'The upstream app lacks a capability'],
  UPSTREAM_BAD_RESPONSE: [502, 'The upstream sent an invalid response'],
  UPSTREAM_UNAVAILABLE: [503, 'The upstream is unavailable'],
  UPSTREAM_RATE_LIMITED: [503, 'The upstream rate limit is reached'],
  UPSTREAM_QUOTA_EXHAUSTED: [503, 'The upstream quota is used up'],
  SERVICE_UNAVAILABLE: [503, 'Service unavailable'],
  UPSTREAM_TIMEOUT: [504, 'The upstream did not answer in time']
} as const satisfies Record<string, readonly [number, string]>

export type ProblemCode = keyof typeof PROBLEMS

export interface ProblemInit {
  detail: string
  status?: number
  errors?: Problem['errors']
  upstream?: Problem['upstream']
  /** Seconds, sent as Retry-After. */
  retryAfter?: number
  cause?: unknown
}

/** An error that becomes an application/problem+json answer. */
export class HttpProblem extends Error {
  readonly code: ProblemCode
  readonly status: number
  readonly title: string
  readonly errors: Problem['errors']
  readonly upstream: Problem['upstream']
  readonly retryAfter: number | undefined

  constructor (code: ProblemCode, init: ProblemInit) {
    // What an upstream said may echo a secret of ours: scrubbed by value before anyone sees it.
    super(secrets.scrub(init.detail), init.cause === undefined ? undefined : { cause: init.cause })
    this.name = 'HttpProblem'
    const [status, title] = PROBLEMS[code]
    this.code = code
    this.status = init.status ?? status
    this.title = title
    this.errors = init.errors
    this.upstream = init.upstream?.message === undefined ? init.upstream : { ...init.upstream, message: secrets.scrub(String(init.upstream.message)) }
    this.retryAfter = init.retryAfter
  }

  toProblem (requestId: string): Problem {
    return {
      type: problemType(this.code),
      title: this.title,
      status: this.status,
      detail: this.message,
      code: this.code,
      requestId,
      ...(this.errors ? { errors: this.errors } : {}),
      ...(this.upstream ? { upstream: this.upstream } : {})
    }
  }
}

export function problemType (code: string): string {
  return `urn:metrics-bff:problem:${code.toLowerCase().replaceAll('_', '-')}`
}

/** True for problems a cache may hide behind stale data: the upstream failed, not the caller. */
export function isTransient (err: unknown): boolean {
  return err instanceof HttpProblem ? err.status >= 500 && err.code !== 'UPSTREAM_AUTH' && err.code !== 'UPSTREAM_CAPABILITY_MISSING' : true
}

/**
 * A 400 VALIDATION_FAILED naming one field: what every check of ours that a route schema cannot
 * express (real calendar dates, ranges, combinations) answers.
 */
export function invalid (field: string, message: string, where = 'querystring'): HttpProblem {
  return new HttpProblem('VALIDATION_FAILED', { detail: `Invalid ${where}: ${field} ${message}`, errors: [{ in: where, field, message }] })
}

const STATUS_CODES: Record<number, ProblemCode> = {
  401: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE'
}

interface ValidationItem { instancePath?: string, message?: string, params?: Record<string, unknown> }
interface ErrorLike { statusCode?: number, code?: string, message?: string, validation?: ValidationItem[], validationContext?: string }

/**
 * Whatever was thrown, as an HttpProblem: ours as they are, a framework's 4xx (schema validation
 * included) by its status, anything else an INTERNAL_ERROR whose message never leaks (`unknown`
 * is told about it, to log it).
 */
export function asProblem (err: unknown, unknown?: (err: unknown) => void): HttpProblem {
  if (err instanceof HttpProblem) return err
  const e = err as ErrorLike | undefined
  if (e?.validation) {
    const where = e.validationContext ?? 'request'
    return new HttpProblem('VALIDATION_FAILED', {
      detail: `Invalid ${where}: ${e.validation.map(v => `${fieldOf(v)} ${v.message ?? 'is invalid'}`).join('; ')}`,
      errors: e.validation.map(v => ({ in: where, field: fieldOf(v), message: v.message ?? 'is invalid' }))
    })
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500
  if (status >= 400 && status < 500) {
    const code = STATUS_CODES[status] ?? (e?.code?.startsWith('FST_ERR_CTP') ? 'INVALID_BODY' : 'VALIDATION_FAILED')
    return new HttpProblem(code, { status, detail: e?.message || 'The request was refused' })
  }
  unknown?.(err)
  return new HttpProblem('INTERNAL_ERROR', { detail: 'An unexpected error occurred; it has been logged with the request id' })
}

function fieldOf (v: ValidationItem): string {
  const named = v.params?.missingProperty ?? v.params?.additionalProperty
  const base = v.instancePath ?? ''
  if (typeof named === 'string') return `${base}/${named}`.replace(/^\//, '')
  return base.replace(/^\//, '') || '(root)'
}
