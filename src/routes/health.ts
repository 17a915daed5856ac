import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const Check = Type.Object({
  ok: Type.Boolean(),
  detail: Type.Optional(Type.String())
})
const Ready = Type.Object({
  ready: Type.Boolean(),
  checks: Type.Record(Type.String(), Check)
}, { description: 'Readiness and what it was judged on' })

export interface ReadinessCheck {
  name: string
  check: () => Promise<{ ok: boolean, detail?: string }>
}

/** Liveness and readiness; small, untagged, never cached. */
const health: FastifyPluginAsyncTypebox<{ checks: ReadinessCheck[] }> = async (app, opts) => {
  const alive = '{"status":"ok"}'
  app.get('/healthz', {
    schema: { tags: ['operations'], operationId: 'getLiveness', summary: 'Liveness: the process answers', response: { 200: Type.Object({ status: Type.Literal('ok') }) } }
  }, (_req, reply) => {
    reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-store').send(alive as never)
  })

  app.get('/readyz', {
    schema: {
      tags: ['operations'],
      operationId: 'getReadiness',
      summary: 'Readiness: Redis answers when configured; each upstream is configured or sandboxed',
      description: 'Open to probes; each check\'s `detail` is shown only to a caller with a valid API key.',
      response: { 200: Ready, 503: Ready }
    }
  }, async (req, reply) => {
    const entries = await Promise.all(opts.checks.map(async c => {
      try {
        return [c.name, await c.check()] as const
      } catch (err) {
        return [c.name, { ok: false, detail: (err as Error).message }] as const
      }
    }))
    // What is wrong and where stays with the callers we know; a probe needs only ok or not.
    const known = req.caller !== undefined
    const checks = Object.fromEntries(entries.map(([name, r]) => [name, known ? r : { ok: r.ok }]))
    const ready = entries.every(([, r]) => r.ok)
    return reply.code(ready ? 200 : 503).header('cache-control', 'no-store').send({ ready, checks })
  })
}

export default health
