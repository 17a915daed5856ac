import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import type { UpstreamName } from '../upstream/http.js'
import { withHook } from './route-hooks.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The upstreams a route's answers come from: a sandboxed one marks them `x-bff-sandbox: 1`. */
    upstreams?: UpstreamName[]
  }
}

/**
 * Marks every answer of a route whose upstream is a sandbox (problems included) with
 * `x-bff-sandbox: 1`, so nobody mistakes sandbox data for real data. Routes name their upstreams
 * in `config.upstreams`; registered before them.
 */
async function sandboxFlag (app: FastifyInstance, { config }: { config: Config }) {
  const sandboxed = new Set<UpstreamName>([
    ...(config.aitoearn.sandbox ? ['aitoearn' as const] : []),
    ...(config.douyin.sandbox ? ['douyin' as const] : [])
  ])
  if (sandboxed.size === 0) return
  app.addHook('onRoute', route => {
    if (!route.config?.upstreams?.some(u => sandboxed.has(u))) return
    const flag = (_req: unknown, reply: { header: (name: string, value: string) => unknown }, done: () => void) => {
      reply.header('x-bff-sandbox', '1')
      done()
    }
    route.onRequest = withHook(route.onRequest, flag)
  })
}

export default fp(sandboxFlag, { name: 'sandbox-flag' })
