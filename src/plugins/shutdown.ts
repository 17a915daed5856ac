import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { HttpProblem } from '../errors.js'
import { sendProblem } from './problems.js'
import { eventCounter, gaugeOf } from '../metrics/registry.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Requests being served now, and how many were refused because the service was closing. */
    drain: { inflight: () => number, refused: number, expired: number, closing: () => boolean }
  }
}

/** Seconds a caller refused during shutdown is asked to wait (another instance takes over). */
export const SHUTDOWN_RETRY_AFTER_S = 2
/**
 * How long kept-alive connections stay open after SIGTERM (and after the last request in flight)
 * for their next request to be told 503 + Connection: close, rather than find the socket reset.
 */
export const DRAIN_MS = 1000

/**
 * Graceful shutdown, from `app.close()` (SIGTERM in the server): new requests are refused with 503
 * SERVICE_UNAVAILABLE, Retry-After and `Connection: close`; requests in flight (and those queued for
 * the Douyin budget) may finish within SHUTDOWN_GRACE_MS, their connections closed after the
 * answer; whatever is still running then is answered 503 with Retry-After. The upstream clients and
 * Redis close after that (their onClose hooks run once the server has closed; Redis, registered
 * first, closes last).
 */
async function shutdown (app: FastifyInstance, { config }: { config: Config }) {
  let closing = false
  let timer: NodeJS.Timeout | undefined
  /** The server's own closeIdleConnections, held back while draining; undefined before closing. */
  let closeIdle: (() => void) | undefined
  let drained = false
  const inflight = new Map<FastifyRequest, FastifyReply>()
  const state = { inflight: () => inflight.size, refused: 0, expired: 0, closing: () => closing }
  app.decorate('drain', state)
  gaugeOf(app.metricsRegistry, 'bff_http_requests_in_flight', 'Requests being served now', () => inflight.size)
  const shed = eventCounter(app.metricsRegistry, 'bff_load_shed_total', 'Requests refused 503 before any work, by reason', ['reason'])
  const refusal = (detail: string) => new HttpProblem('SERVICE_UNAVAILABLE', { detail, retryAfter: SHUTDOWN_RETRY_AFTER_S })

  app.addHook('onRequest', (req, reply, done) => {
    if (closing) {
      state.refused++
      shed.inc({ reason: 'shutting_down' })
      reply.header('connection', 'close')
      sendProblem(reply, refusal('The service is shutting down; retry (another instance will answer)'))
      return
    }
    inflight.set(req, reply)
    done()
  })
  app.addHook('onResponse', (req, _reply, done) => {
    inflight.delete(req)
    if (drained) closeIdleWhenQuiet()
    done()
  })
  app.addHook('onRequestAbort', (req, done) => {
    inflight.delete(req)
    if (drained) closeIdleWhenQuiet()
    done()
  })

  app.addHook('preClose', done => {
    closing = true
    // Node's server.close() (and Fastify before it) closes idle kept-alive connections at once: a
    // client sending on one at that moment sees a reset. They stay open instead, their next request
    // is answered 503 + Connection: close, and the idle rest are closed once DRAIN_MS has passed
    // with nothing in flight.
    const server = app.server
    if (closeIdle === undefined) {
      closeIdle = server.closeIdleConnections.bind(server)
      server.closeIdleConnections = () => {}
      setTimeout(() => {
        drained = true
        closeIdleWhenQuiet()
      }, DRAIN_MS).unref()
    }
    for (const reply of inflight.values()) if (!reply.raw.headersSent) reply.header('connection', 'close')
    if (inflight.size > 0) {
      app.log.info({ inflight: inflight.size, graceMs: config.shutdownGraceMs }, 'shutting down: letting requests in flight finish')
      timer = setTimeout(expire, config.shutdownGraceMs)
    }
    done()
  })
  app.addHook('onClose', (_app, done) => {
    clearTimeout(timer)
    done()
  })

  /** Once drained and nothing is in flight: the idle connections go, and the server can close. */
  function closeIdleWhenQuiet (): void {
    if (closeIdle !== undefined && inflight.size === 0) closeIdle()
  }

  function expire (): void {
    const left = [...inflight.values()].filter(reply => !reply.sent && !reply.raw.headersSent && !reply.raw.destroyed)
    app.log.warn({ unfinished: left.length }, 'shutdown grace period over: answering the rest 503')
    for (const reply of left) {
      state.expired++
      shed.inc({ reason: 'shutdown_grace_over' })
      reply.header('connection', 'close')
      sendProblem(reply, refusal('The service shut down before this request finished; retry'))
    }
    // Each answer closes its connection once written; idle keep-alives must not hold the exit.
    drained = true
    setImmediate(closeIdleWhenQuiet)
  }
}

export default fp(shutdown, { name: 'shutdown', dependencies: ['problems', 'metrics'] })
