import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

export const REQUEST_ID_HEADER = 'x-request-id'
const ACCEPTED = /^[A-Za-z0-9._:@/+=-]{1,128}$/
// One random prefix per process plus a counter: unique across instances, and far cheaper per
// request than a random UUID (measured at 5-15% of a cached route's throughput).
const prefix = randomBytes(6).toString('hex')
let counter = 0

/** A new request id: this process's prefix and a counter. */
export function newRequestId (): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return `${prefix}-${counter.toString(36)}`
}

/** Takes the caller's x-request-id when it is sane (length, charset), otherwise makes one. */
export function genReqId (req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER]
  if (typeof given === 'string' && ACCEPTED.test(given)) return given
  return newRequestId()
}

async function requestId (app: FastifyInstance) {
  // A callback hook, not an async one: it runs on every request, the cache hits included.
  app.addHook('onRequest', (req, reply, done) => {
    // No content sniffing of any answer: JSON stays JSON, problems stay problems.
    reply.header(REQUEST_ID_HEADER, req.id).header('x-content-type-options', 'nosniff')
    done()
  })
}

export default fp(requestId, { name: 'request-id' })
