/**
 * The process: loads the config, starts sandbox upstreams when the config asks for them, builds
 * the app, listens, and shuts down gracefully. The only file that owns these concerns.
 */
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import closeWithGrace from 'close-with-grace'
import app, { serverOptions } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { attachSandboxes } from './sandbox/attach.js'
import { loggerOptions } from './plugins/redact.js'
import { startTelemetry } from './telemetry.js'

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

// Tracing first, so the logger below and every client the app makes are traced.
const telemetry = config.otel.endpoint === undefined ? undefined : await startTelemetry({ endpoint: config.otel.endpoint, serviceName: config.otel.serviceName })
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
  try {
    await server.close()
    await sandboxes.close()
  } finally {
    // The last spans (this shutdown's included) go out even when closing failed.
    await telemetry?.shutdown()
  }
})

try {
  await server.listen({ port: config.port, host: config.host })
} catch (err) {
  server.log.fatal({ err }, 'could not listen')
  await telemetry?.shutdown()
  process.exit(1)
}
// Where a person goes next: the dashboard and the API docs (a wildcard host is shown as localhost).
const { port } = server.server.address() as AddressInfo
const host = ['0.0.0.0', '::'].includes(config.host) ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host
const base = `http://${host}:${port}`
server.log.info({ dashboard: `${base}/`, docs: `${base}/docs` }, `Dashboard: ${base}/ · API docs (Swagger UI): ${base}/docs`)
