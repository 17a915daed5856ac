import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { HttpProblem, PROBLEM_CONTENT_TYPE, asProblem } from '../errors.js'

/** Sends one problem: the only way an error leaves this service. */
export function sendProblem (reply: FastifyReply, problem: HttpProblem): FastifyReply {
  if (problem.retryAfter !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(problem.retryAfter))))
  return reply
    .code(problem.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .header('cache-control', 'no-store')
    .send(JSON.stringify(problem.toProblem(reply.request.id)))
}

/** Turns whatever was thrown into an HttpProblem; unknown errors are logged and never leak their message. */
export function toProblem (err: unknown, req: FastifyRequest): HttpProblem {
  return asProblem(err, e => req.log.error({ err: e }, 'unhandled error'))
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
