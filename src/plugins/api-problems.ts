import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { PROBLEMS, type ProblemCode } from '../errors.js'
import { problemResponses } from '../schemas/responses.js'

/** What the hardening plugins may answer on any API route, before or instead of the route. */
const HARDENING_PROBLEMS: ProblemCode[] = ['UNAUTHORIZED', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE']

/**
 * Documents, on every /v1 route, the problems the auth, rate-limit, pressure and shutdown plugins
 * answer there (401, 429, 503), merged into the route's own responses, so the OpenAPI document
 * tells callers everything a route can answer. Registered before the routes.
 */
async function apiProblems (app: FastifyInstance) {
  const extra = problemResponses(...HARDENING_PROBLEMS)
  app.addHook('onRoute', route => {
    if (!route.url.startsWith('/v1/') || route.schema?.response === undefined) return
    const responses = route.schema.response as Record<string, { description?: string }>
    for (const code of HARDENING_PROBLEMS) {
      const status = PROBLEMS[code][0]
      const line = `\`${code}\`: ${PROBLEMS[code][1]}`
      const own = responses[status]
      if (own === undefined) responses[status] = { ...extra[status]!, description: line }
      else if (own.description !== undefined && !own.description.includes(`\`${code}\``)) responses[status] = { ...own, description: `${own.description}; ${line}` }
    }
  })
}

export default fp(apiProblems, { name: 'api-problems' })
