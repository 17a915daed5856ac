import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { HttpProblem, type ProblemCode } from '../errors.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8'

/** Sends one problem: the only way an error leaves this service. */
export function sendProblem (reply: FastifyReply, problem: HttpProblem): FastifyReply {
  if (problem.retryAfter !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(problem.retryAfter))))
  return reply
    .code(problem.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .header('cache-control', 'no-store')
    .send(JSON.stringify(problem.toProblem(reply.request.id)))
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

/** Turns whatever was thrown into an HttpProblem; unknown errors never leak their message. */
export function toProblem (err: unknown, req: FastifyRequest): HttpProblem {
  if (err instanceof HttpProblem) return err
  const e = err as FastifyError
  if (e?.validation) {
    const where = e.validationContext ?? 'request'
    return new HttpProblem('VALIDATION_FAILED', {
      detail: `Invalid ${where}: ${e.validation.map(v => `${fieldOf(v)} ${v.message ?? 'is invalid'}`).join('; ')}`,
      errors: e.validation.map(v => ({ in: where, field: fieldOf(v), message: v.message ?? 'is invalid' }))
    })
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500
  if (status >= 400 && status < 500) {
    const code = STATUS_CODES[status] ?? (e.code?.startsWith('FST_ERR_CTP') ? 'INVALID_BODY' : 'VALIDATION_FAILED')
    return new HttpProblem(code, { status, detail: e.message || 'The request was refused' })
  }
  req.log.error({ err }, 'unhandled error')
  return new HttpProblem('INTERNAL_ERROR', { detail: 'An unexpected error occurred; it has been logged with the request id' })
}

/**
 * Fastify's `frameworkErrors`: URLs the router refuses before any route or hook (bad percent-encoding,
 * a path parameter over maxParamLength) answer as problems too, never as Fastify's own JSON.
 */
export function frameworkError (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', req.id)
  const detail = err.code === 'FST_ERR_BAD_URL'
    ? 'The URL is not valid: a path segment has a bad percent-encoding'
    : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'A path parameter is too long'
      : undefined
  sendProblem(reply, detail === undefined ? toProblem(err, req) : new HttpProblem('VALIDATION_FAILED', { detail, errors: [{ in: 'path', field: '(path)', message: detail }] }))
}

function fieldOf (v: { instancePath?: string, params?: Record<string, unknown> }): string {
  const named = v.params?.missingProperty ?? v.params?.additionalProperty
  const base = v.instancePath ?? ''
  if (typeof named === 'string') return `${base}/${named}`.replace(/^\//, '')
  return base.replace(/^\//, '') || '(root)'
}

async function problems (app: FastifyInstance) {
  app.setErrorHandler((err, req, reply) => {
    const problem = toProblem(err, req)
    if (problem.status >= 500) req.log.warn({ code: problem.code, upstream: problem.upstream }, problem.message)
    return sendProblem(reply, problem)
  })
  app.setNotFoundHandler((req, reply) => sendProblem(reply, new HttpProblem('ROUTE_NOT_FOUND', {
    detail: `No route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}; see /docs`
  })))
}

export default fp(problems, { name: 'problems' })
