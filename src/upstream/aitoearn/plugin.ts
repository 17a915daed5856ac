import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../../config.js'
import { AitoearnClient, type CallContext } from './client.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The AiToEarn open API client (works, analytics, platforms). */
    aitoearn: AitoearnClient
  }
}

/** The call context of a request: its id, the deadline of this fetch and its Accept-Language. */
export function callContext (req: FastifyRequest, deadline: number): CallContext {
  const lang = req.headers['accept-language']
  return { requestId: req.id, deadline, ...(typeof lang === 'string' ? { acceptLanguage: lang } : {}) }
}

async function aitoearnPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const client = new AitoearnClient({
    baseUrl: config.aitoearn.baseUrl,
    apiKey: config.aitoearn.apiKey,
    timeoutMs: config.upstreamTimeoutMs,
    sandbox: config.aitoearn.sandbox,
    requestDeadlineMs: config.requestDeadlineMs,
    log: app.log
  })
  app.decorate('aitoearn', client)
  app.addHook('onClose', async () => { await client.close() })
}

export default fp(aitoearnPlugin, { name: 'aitoearn' })
