import fp from 'fastify-plugin'
import type { FastifyInstance, preValidationHookHandler } from 'fastify'
import { withHook } from './route-hooks.js'

const DECIMAL = /^[0-9]{1,16}$/
/** What a non-decimal number becomes: a string no integer schema coerces. */
const NOT_DECIMAL = 'not written in decimal digits'

/**
 * Numbers in a query string are written in decimal digits, nothing else: the schema coercion
 * would read `0x10` as 16, `1e1` as 10 and ` 5` as 5, and a cache key, a log line and the
 * upstream would then disagree about what was asked. Each route with integer query fields gets a
 * look at the raw strings before validation: one that is not plain digits is made one the schema
 * refuses, so it is listed with every other failing field. Registered before the routes.
 */
async function strictQuery (app: FastifyInstance) {
  app.addHook('onRoute', route => {
    const props = (route.schema?.querystring as { properties?: Record<string, { type?: string }> } | undefined)?.properties
    if (props === undefined) return
    const numeric = Object.keys(props).filter(name => props[name]!.type === 'integer' || props[name]!.type === 'number')
    if (numeric.length === 0) return
    const check: preValidationHookHandler = (req, _reply, done) => {
      const query = req.query as Record<string, unknown>
      for (const name of numeric) {
        const raw = query[name]
        const values = Array.isArray(raw) ? raw : [raw]
        if (values.some(v => typeof v === 'string' && !DECIMAL.test(v))) query[name] = NOT_DECIMAL
      }
      done()
    }
    route.preValidation = withHook(route.preValidation, check)
  })
}

export default fp(strictQuery, { name: 'strict-query' })
