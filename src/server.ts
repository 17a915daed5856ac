/**
 * The process: loads the config, starts sandbox upstreams when the config asks for them, builds
 * the app, listens, and shuts down gracefully. The only file that owns these concerns.
 */
import Fastify from 'fastify'
import closeWithGrace from 'close-with-grace'
import app, { serverOptions } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { attachSandboxes } from './sandbox/attach.js'
import { loggerOptions } from './plugins/redact.js'

let config: Config
try {
  config = loadConfig()
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`)
    process.exit(1)
  }
  throw err
}

const sandboxes = await attachSandboxes(config)
const server = Fastify({
  ...serverOptions(sandboxes.config),
  logger: loggerOptions(config.logLevel)
})

for (const sandbox of sandboxes.sandboxes) {
  server.log.warn({ upstream: sandbox.name, url: sandbox.url }, `${sandbox.name}: no credentials, using the sandbox upstream (responses carry x-bff-sandbox: 1)`)
}

await server.register(app, { config: sandboxes.config })

// On SIGTERM/SIGINT: the app stops accepting, lets requests in flight finish within
// SHUTDOWN_GRACE_MS and answers the rest 503 (src/plugins/shutdown.ts), then closes its clients
// and Redis; the sandboxes go last. The margin covers that; past it the process exits anyway.
closeWithGrace({ delay: config.shutdownGraceMs + 5000 }, async ({ signal, err }) => {
  if (err) server.log.error({ err }, 'closing after an error')
  else server.log.info({ signal }, 'closing')
  await server.close()
  await sandboxes.close()
})

try {
  await server.listen({ port: config.port, host: config.host })
} catch (err) {
  server.log.fatal({ err }, 'could not listen')
  process.exit(1)
}
