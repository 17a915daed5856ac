import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { newRegistry, type Registry } from '../metrics/registry.js'
import { RequestMetrics } from '../metrics/requests.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's Prometheus registry: each plugin registers its own metrics in it. */
    metricsRegistry: Registry
    requestMetrics: RequestMetrics
  }
}

/** Route label of requests that matched no route (their raw URL would be an unbounded label). */
export const UNMATCHED = '(unmatched)'

/**
 * The metrics registry (with prom-client's process and Node.js metrics), registered before the
 * plugins that add theirs, and the request metrics: one callback onResponse hook, after the
 * answer is sent, counting the request by route pattern, method and status with its latency
 * (`reply.elapsedTime`) and the caller's key name.
 */
async function metrics (app: FastifyInstance) {
  const registry = newRegistry()
  const requests = new RequestMetrics(registry)
  app.decorate('metricsRegistry', registry)
  app.decorate('requestMetrics', requests)
  app.addHook('onResponse', (req, reply, done) => {
    requests.observe(req.routeOptions.url ?? UNMATCHED, req.method, reply.statusCode, reply.elapsedTime, req.caller)
    done()
  })
}

export default fp(metrics, { name: 'metrics' })
