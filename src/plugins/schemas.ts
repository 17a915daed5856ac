import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { SHARED_SCHEMAS } from '../schemas/metrics.js'
import { ProblemSchema } from '../schemas/problem.js'

/** Registers the shared schemas once; routes reference them with Type.Ref (components in OpenAPI). */
async function schemas (app: FastifyInstance) {
  for (const schema of [ProblemSchema, ...SHARED_SCHEMAS]) app.addSchema(schema)
}

export default fp(schemas, { name: 'schemas' })
