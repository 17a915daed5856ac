import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler, preHandlerHookHandler } from 'fastify'
import { CSV_CONTENT_TYPE, wantsCsv, type CsvTable } from '../schemas/csv.js'
import { withHook } from './route-hooks.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route also answers CSV (`Accept: text/csv` or `format=csv`), rendered by this table. */
    csv?: CsvTable
  }
  interface FastifyRequest {
    /** True when this request is answered as CSV: the cache front door must not learn its URL. */
    csv: boolean
  }
}

/** The CSV validator of a JSON one: the same entry, another representation; `1`: the column layout (bump it when the columns change). */
const CSV_TAG = '.csv1"'
const csvEtag = (etag: string): string => `${etag.slice(0, -1)}${CSV_TAG}`

/**
 * The CSV of an answer, made once per body of the in-process cache: its hits send the same Buffer,
 * so the CSV is kept beside it and goes with it (at most about the cache's own size: a CSV row
 * is shorter than its JSON). Redis-tier hits and merged views bring new Buffers: rendered anew.
 */
const rendered = new WeakMap<Buffer, { name: string, csv: Buffer }>()

function render (table: CsvTable, payload: Buffer): { name: string, csv: Buffer } {
  const known = rendered.get(payload)
  if (known !== undefined) return known
  const body: unknown = JSON.parse(payload.toString())
  const made = { name: table.name(body), csv: Buffer.from(table.render(body)) }
  rendered.set(payload, made)
  return made
}

/**
 * CSV answers of the routes whose config names a table. The route answers as always (cache, ETag,
 * 304); before it runs, a CSV request's If-None-Match is turned back into the JSON validators it
 * stands for; as it is sent, a 200 JSON body becomes its CSV and the validator gets `.csv`.
 * Errors stay problem+json. Every answer past validation says `Vary: Accept`.
 */
async function csvPlugin (app: FastifyInstance) {
  app.decorateRequest('csv', false)
  app.addHook('onRoute', route => {
    const table = route.config?.csv
    if (table === undefined) return
    const negotiate: preHandlerHookHandler = (req, reply, done) => {
      req.csv = wantsCsv((req.query as { format?: unknown }).format, req.headers.accept)
      // Set before the route runs: the front door learns it with the route's other headers.
      const vary = reply.getHeader('vary')
      reply.header('vary', vary === undefined ? 'Accept' : `${String(vary)}, Accept`)
      const inm = req.headers['if-none-match']
      if (req.csv && inm !== undefined) {
        // Only CSV validators (or *) can match a CSV answer.
        const tags = inm.split(',').map(t => t.trim()).filter(t => t === '*' || t.endsWith(CSV_TAG))
        req.headers['if-none-match'] = tags.map(t => (t === '*' ? t : `${t.slice(0, -CSV_TAG.length)}"`)).join(', ')
      }
      done()
    }
    const send: onSendHookHandler = (req: FastifyRequest, reply: FastifyReply, payload, done) => {
      const status = reply.statusCode
      if (!req.csv || (status !== 200 && status !== 304)) return done(null, payload)
      if (status === 200) {
        if (!Buffer.isBuffer(payload)) return done(null, payload)
        const { name, csv } = render(table, payload)
        reply.header('content-type', CSV_CONTENT_TYPE).header('content-disposition', `attachment; filename="${name}.csv"`).removeHeader('content-length')
        payload = csv
      }
      const etag = reply.getHeader('etag')
      if (typeof etag === 'string' && etag.endsWith('"')) reply.header('etag', csvEtag(etag))
      done(null, payload)
    }
    route.preHandler = withHook(route.preHandler, negotiate)
    // First of the route's onSend hooks: before HEAD's (Fastify's own, which measures the body
    // and drops it) and before a tracer's that ends the request span.
    route.onSend = withHook(route.onSend, send, true)
  })
}

export default fp(csvPlugin, { name: 'csv' })
