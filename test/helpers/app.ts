import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import app, { serverOptions } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'

import type { Tap } from './redis.js'

/** Environment for a test app: sandboxes off (tests start their own), quiet, no Redis. */
export function testEnv (env: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { NODE_ENV: 'test', SANDBOX: 'false', LOG_LEVEL: 'silent', AITOEARN_BASE_URL: 'http://127.0.0.1:9', ...env }
}

/** Builds the whole app as the server does, from an environment; closed when the test ends. */
export async function buildApp (t: Tap, env: Record<string, string | undefined> = {}, config?: Config): Promise<FastifyInstance> {
  const cfg = config ?? loadConfig(testEnv(env))
  const server = Fastify({ ...serverOptions(cfg), logger: false })
  // fp: the app's decorators (cache, redis, clients) are visible to the test.
  await server.register(fp(app), { config: cfg })
  await server.ready()
  t.teardown(() => server.close())
  return server
}
