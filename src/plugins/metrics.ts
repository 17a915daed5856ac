import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { RequestMetrics } from '../metrics/requests.js'

declare module 'fastify' {
  interface FastifyInstance {
    requestMetrics: RequestMetrics
  }
}

/** Route label of requests that matched no route (their raw URL would be an unbounded label). */
export const UNMATCHED = '(unmatched)'

/**
 * Counts every answered request by route pattern, method and status, with its latency
 * (`reply.elapsedTime`) and the caller's key name: one callback onResponse hook, after the answer
 * is sent, doing a few map lookups and additions.
 */
async function metrics (app: FastifyInstance) {
  const requests = new RequestMetrics()
  app.decorate('requestMetrics', requests)
  app.addHook('onResponse', (req, reply, done) => {
    requests.observe(req.routeOptions.url ?? UNMATCHED, req.method, reply.statusCode, reply.elapsedTime, req.caller)
    done()
  })
}

export default fp(metrics, { name: 'metrics', dependencies: ['auth'] })
