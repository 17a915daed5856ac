import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { HttpProblem, PROBLEM_CONTENT_TYPE, asProblem } from '../errors.js'
import { newRequestId } from './request-id.js'

/** Sends one problem: the only way an error leaves this service. */
export function sendProblem (reply: FastifyReply, problem: HttpProblem): FastifyReply {
  if (problem.retryAfter !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(problem.retryAfter))))
  return reply
    .code(problem.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .send(JSON.stringify(problem.toProblem(reply.request.id)))
}

/**
 * Fastify's `clientErrorHandler`: what Node's parser refuses before any request exists (a request
 * line and headers over MAX_HEADER_BYTES, a malformed request, one too slow to arrive) answers as
 * a problem too, with a request id, and the connection closes.
 */
export function clientError (err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const code = err.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : 'VALIDATION_FAILED'
  const problem = new HttpProblem(code, {
    detail: code === 'HEADERS_TOO_LARGE'
      ? 'The request line and headers are larger than this service accepts (MAX_HEADER_BYTES); shorten the query string or the headers'
      : code === 'REQUEST_TIMEOUT' ? 'The request did not arrive in time' : 'The request is not valid HTTP'
  })
  const id = newRequestId()
  const body = JSON.stringify(problem.toProblem(id))
  socket.end(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\ncontent-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${id}\r\nx-content-type-options: nosniff\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`)
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
