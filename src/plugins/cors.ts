import fp from 'fastify-plugin'
import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'

/** What the dashboard reads from our answers (cache validators, ids, completeness, limits). */
export const EXPOSED_HEADERS = [
  'ETag', 'Cache-Status', 'Age', 'x-request-id', 'x-sources-complete', 'x-bff-sandbox',
  'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After', 'Content-Disposition'
]
/** What a browser caller may send. */
export const ALLOWED_HEADERS = ['Authorization', 'X-Api-Key', 'Content-Type', 'If-None-Match', 'Cache-Control', 'x-request-id', 'Accept-Language']

/**
 * CORS for browser callers on other origins: an allowlist (CORS_ORIGINS), nothing by default, in
 * which case the plugin is not even registered (no hook, no headers). Registered before `auth`,
 * so preflights are answered before any key is asked for and 401s still carry CORS headers.
 */
async function corsPlugin (app: FastifyInstance, { config }: { config: Config }) {
  if (config.corsOrigins.length === 0) return
  await app.register(cors, {
    origin: config.corsOrigins,
    methods: ['GET', 'HEAD', 'OPTIONS'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: 600,
    strictPreflight: true
  })
  app.log.info({ origins: config.corsOrigins }, 'CORS: browser callers allowed from these origins')
}

export default fp(corsPlugin, { name: 'cors' })
