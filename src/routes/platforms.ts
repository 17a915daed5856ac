import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { problemResponses } from '../schemas/responses.js'
import { PlatformsBodySchema } from '../schemas/aitoearn.js'
import { JSON_CONTENT_TYPE } from '../cache/http.js'
import { replyRead } from './reply.js'

const platforms: FastifyPluginAsyncTypebox = async (app) => {
  const read = app.reads.aitoearn.platforms()
  const headers = { 'content-type': JSON_CONTENT_TYPE }

  app.get('/v1/platforms', {
    config: { upstreams: ['aitoearn'] },
    schema: {
      tags: ['platforms'],
      operationId: 'listPlatforms',
      summary: 'Platforms, what each supports, and which sources serve it',
      description: [
        "Every platform with AiToEarn's capabilities for it (can its works be listed, does it have work analytics, how its listing pages) and which of our sources serve it.",
        '`workAnalytics` is ours where AiToEarn\'s flag is wrong: its list says douyin and xhs have work analytics, its analytics endpoint answers "not supported" for them. douyin is served by the Douyin taskbox (money and conversion per day).',
        'Read from AiToEarn\'s keyless platform list and cached (CACHE_PLATFORMS_TTL_S, default one hour).'
      ].join('\n\n'),
      response: {
        200: PlatformsBodySchema,
        ...problemResponses('UPSTREAM_ERROR', 'UPSTREAM_BAD_RESPONSE', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_RATE_LIMITED', 'UPSTREAM_TIMEOUT')
      }
    }
  }, (req, reply) => replyRead(req, reply, read, headers))
}

export default platforms
