import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { problemResponses } from '../schemas/responses.js'
import { PlatformsBodySchema } from '../upstream/aitoearn/bodies.js'
import { Cache } from '../cache/cache.js'
import { JSON_CONTENT_TYPE, replyCached } from '../cache/http.js'
import { callContext } from '../upstream/aitoearn/plugin.js'

const platforms: FastifyPluginAsyncTypebox = async (app) => {
  const client = app.aitoearn
  if (client.sandbox) {
    app.addHook('onRequest', (_req, reply, done) => {
      reply.header('x-bff-sandbox', '1')
      done()
    })
  }

  const policy = app.cachePolicies.platforms
  const platformsCache = { policy, key: Cache.key(policy, client.credentialFingerprint, {}), deadlineMs: client.requestDeadlineMs, headers: { 'content-type': JSON_CONTENT_TYPE } }

  app.get('/v1/platforms', {
    schema: {
      tags: ['platforms'],
      summary: 'Platforms, what each supports, and which sources serve it',
      description: [
        "Every platform with AiToEarn's capabilities for it (can its works be listed, does it have work analytics, how its listing pages) and which of our sources serve it.",
        'douyin is served by AiToEarn (work analytics) and by the Douyin taskbox (money and conversion per day).',
        'Read from AiToEarn\'s keyless platform list and cached (CACHE_PLATFORMS_TTL_S, default one hour).'
      ].join('\n\n'),
      response: {
        200: PlatformsBodySchema,
        ...problemResponses('UPSTREAM_ERROR', 'UPSTREAM_BAD_RESPONSE', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_RATE_LIMITED', 'UPSTREAM_TIMEOUT')
      }
    }
  }, (req, reply) => replyCached(req, reply, app.cache, platformsCache, f => client.platforms(callContext(req, f.deadline))))
}

export default platforms
