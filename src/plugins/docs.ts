import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { METRICS_PATH } from '../metrics/registry.js'

export const API_TAGS = [
  { name: 'platforms', description: 'Which platforms exist and which of our sources serve each' },
  { name: 'works', description: 'AiToEarn works and their analytics, in the one metrics shape' },
  { name: 'douyin', description: 'Douyin taskbox daily video data (money and conversion), in the one metrics shape' },
  { name: 'operations', description: 'Probes and Prometheus metrics' }
]

/** The two ways a caller key is sent (plugins/auth.ts reads Bearer first, then X-Api-Key). */
const SECURITY_SCHEMES = {
  bearerKey: { type: 'http', scheme: 'bearer', description: 'A caller key of BFF_API_KEYS as `Authorization: Bearer <key>`' },
  apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'The same key in `X-Api-Key`' }
} as const
/** Either scheme will do; required on /v1 and /metrics when BFF_API_KEYS is set (auth.ts). */
const KEY_REQUIRED: Array<Record<string, string[]>> = [{ bearerKey: [] }, { apiKeyHeader: [] }]
const needsKey = (url: string) => url.startsWith('/v1/') || url === METRICS_PATH

/** OpenAPI 3.1 generated from the route schemas; Swagger UI at /docs, JSON and YAML beside it. */
async function docs (app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Metrics BFF',
        version: '1.0.0',
        description: [
          'One metrics shape for social-media work analytics from AiToEarn and the Douyin open platform.',
          '',
          'Every error is `application/problem+json` (RFC 9457) with a stable `code`.',
          '`null` in a metric means the source does not report it; it never stands for 0.',
          'Money is in integer minor units (fen, 1/100 CNY) with `currency: "CNY"`.',
          'Every response carries `x-request-id` (yours when you send a sane one).',
          '',
          'With `BFF_API_KEYS` set, `/v1` routes and `/metrics` need a key: **Authorize** above, then "Try it out".'
        ].join('\n')
      },
      // Relative: "Try it out" calls the service that serves these docs, wherever it runs.
      servers: [{ url: '/', description: 'This service' }],
      components: { securitySchemes: SECURITY_SCHEMES },
      tags: API_TAGS
    },
    transform: ({ schema, url }) => ({ schema: needsKey(url) ? { ...schema, security: KEY_REQUIRED } : { ...schema, security: [] }, url }),
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`)
    }
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true },
    // A policy that names the UI's own scripts and styles; never framed; no upgrade of plain-HTTP
    // requests (the service is often reached over HTTP behind a TLS-terminating proxy).
    staticCSP: true,
    transformStaticCSP: header => header.replace("frame-ancestors 'self'", "frame-ancestors 'none'").replace(' upgrade-insecure-requests;', '')
  })
}

export default fp(docs, { name: 'docs' })
