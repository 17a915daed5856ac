import type { Server } from 'node:http'
import type { FastifyHttpOptions, FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { ConfigError, type Config } from './config.js'
import { secrets } from './secrets.js'
import schemas from './plugins/schemas.js'
import problems, { clientError, frameworkError } from './plugins/problems.js'
import requestId, { genReqId } from './plugins/request-id.js'
import redis from './plugins/redis.js'
import cache from './plugins/cache.js'
import docs from './plugins/docs.js'
import shutdown from './plugins/shutdown.js'
import pressure from './plugins/pressure.js'
import cors from './plugins/cors.js'
import auth from './plugins/auth.js'
import metrics from './plugins/metrics.js'
import rateLimit from './plugins/rate-limit.js'
import apiProblems from './plugins/api-problems.js'
import frontDoor from './plugins/front-door.js'
import { proxyTrust, type ProxyTrust } from './plugins/client-ip.js'
import { frontDoorServer } from './cache/front-door.js'
import metricsRoute from './routes/metrics.js'
import health from './routes/health.js'
import reads from './plugins/reads.js'
import sandboxFlag from './plugins/sandbox-flag.js'
import strictQuery from './plugins/strict-query.js'
import csv from './plugins/csv.js'
import platformsRoutes from './routes/platforms.js'
import worksRoutes from './routes/works.js'
import douyinRoutes from './routes/douyin.js'
import mergedRoutes from './routes/merged.js'
import webRoutes from './routes/web.js'
import { telemetry } from './telemetry.js'

export interface AppOptions {
  config: Config
}

/** Fastify's constructor options, shared by the server and by tests (the logger is the server's). */
export function serverOptions (config: Config): FastifyHttpOptions<Server> {
  const trust = trustOf(config)
  return {
    genReqId,
    // TRUST_PROXY: req.ip is the client behind the proxies we believe (the front door uses the same rule).
    ...(trust !== undefined ? { trustProxy: trust } : {}),
    // Node's HTTP server as Fastify makes it, with the cache front door first (fresh hits).
    serverFactory: frontDoorServer(),
    bodyLimit: 64 * 1024,
    connectionTimeout: config.requestDeadlineMs + 5000,
    requestTimeout: config.requestDeadlineMs + 5000,
    // The shutdown plugin answers requests that arrive while closing (problem+json, Retry-After).
    return503OnClosing: false,
    // URLs the router refuses before any hook (bad %-encoding, a too long parameter): problems too.
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
    // Request line (query string included) + headers; larger: 431 before any parsing.
    http: { maxHeaderSize: config.maxHeaderBytes },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: true } }
  }
}

/** TRUST_PROXY as the one function Fastify and the front door use; a bad address list stops the start, named. */
export function trustOf (config: Config): ProxyTrust | undefined {
  try {
    return proxyTrust(config.trustProxy)
  } catch (err) {
    throw new ConfigError(`Invalid configuration: TRUST_PROXY ${(err as Error).message}`)
  }
}

/** The whole service as one plugin: external plugins, then app plugins, then routes. */
export default async function app (fastify: FastifyInstance, { config }: AppOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  for (const secret of config.secrets) secrets.add(secret)
  // OpenTelemetry, when the process started it (server.ts): first, so every hook runs in the request's span.
  const otel = telemetry()
  if (otel !== undefined) await app.register(otel.fastifyPlugin)
  await app.register(schemas)
  await app.register(problems)
  await app.register(requestId)
  // The metrics registry first: the plugins below register theirs in it.
  await app.register(metrics)
  // Per-request hooks, cheapest refusals first: closing, overloaded, CORS preflight, no key.
  await app.register(shutdown, { config })
  await app.register(pressure, { config })
  await app.register(cors, { config })
  await app.register(auth, { config })
  await app.register(docs)
  await app.register(redis, { redis: config.redis })
  await app.register(cache, { config })

  // Caller budgets: before the routes they limit (they attach per-route hooks as routes are added).
  await app.register(rateLimit, { config })
  // The upstream clients, the Douyin limiter and the read services the routes call (app.reads).
  await app.register(reads, { config })
  await app.register(apiProblems)
  await app.register(sandboxFlag, { config })
  await app.register(strictQuery)
  // CSV answers of the routes that name a table (`config.csv`), made from their JSON answers.
  await app.register(csv)
  // Fresh hits of URLs the routes below have validated, answered before routing (cache/front-door.ts).
  await app.register(frontDoor, { config })
  await app.register(platformsRoutes)
  await app.register(worksRoutes)
  await app.register(douyinRoutes)
  await app.register(mergedRoutes, { config })
  // The dashboard page at GET / (public/) and its chart library under /vendor/uplot/.
  await app.register(webRoutes)
  // Prometheus metrics (behind a key unless METRICS_REQUIRE_KEY=false).
  await app.register(metricsRoute)

  await app.register(health, {
    checks: [
      {
        name: 'redis',
        check: async () => {
          if (!app.redis) return { ok: true, detail: 'not configured: in-process cache and limiter' }
          await app.redis.ping()
          return { ok: true }
        }
      },
      {
        name: 'aitoearn',
        check: async () => ({ ok: Boolean(config.aitoearn.apiKey) || config.aitoearn.sandbox, detail: config.aitoearn.sandbox ? 'sandbox' : config.aitoearn.apiKey ? 'configured' : 'no AITOEARN_API_KEY' })
      },
      {
        name: 'douyin',
        check: async () => ({
          ok: config.douyin.sandbox || Boolean(config.douyin.accessToken ?? (config.douyin.clientKey && config.douyin.clientSecret)),
          detail: config.douyin.sandbox ? 'sandbox' : config.douyin.accessToken ?? config.douyin.clientKey ? 'configured' : 'no Douyin credentials'
        })
      }
    ]
  })
}
