import { test } from 'tap'
import { runToExit, startService } from './helpers/process.js'

test('a bad config value fails the start with one line naming it', async t => {
  const { code, stderr } = await runToExit({ PORT: 'abc' })
  t.equal(code, 1)
  t.match(stderr, /^Invalid configuration: PORT .*\n$/)
  t.equal(stderr.trim().split('\n').length, 1, 'one line')
})

test('production without credentials does not start', async t => {
  const { code, stderr } = await runToExit({ NODE_ENV: 'production' })
  t.equal(code, 1)
  t.match(stderr, /AITOEARN_API_KEY/)
})

test('zero config: sandbox upstreams, docs, health and sandbox-backed routes', async t => {
  const service = await startService({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' })
  t.teardown(() => service.stop('SIGKILL'))
  t.ok(service.output.some(l => /sandbox/i.test(l) && /aitoearn/i.test(l)), 'the log says AiToEarn is a sandbox')
  t.ok(service.output.some(l => /no Redis configured/.test(l)), 'the log says the cache is in-process, once')

  const health = await fetch(`${service.url}/healthz`)
  t.equal(health.status, 200)
  const ready = await fetch(`${service.url}/readyz`)
  t.equal(ready.status, 200)
  const docs = await fetch(`${service.url}/docs/json`)
  t.equal(docs.status, 200)
  const platforms = await fetch(`${service.url}/v1/platforms`)
  t.equal(platforms.status, 200)
  t.equal(platforms.headers.get('x-bff-sandbox'), '1', 'sandbox answers are marked')
  const works = await fetch(`${service.url}/v1/works/tiktok?accountId=acc-tiktok-1&limit=5`)
  t.equal(works.status, 200)
  t.equal(((await works.json()) as { items: unknown[] }).items.length, 5)
  // Written right after the listening line, before the process could answer anything.
  const port = new URL(service.url).port
  t.ok(service.output.some(l => l.includes(`Dashboard: http://127.0.0.1:${port}/ · API docs (Swagger UI): http://127.0.0.1:${port}/docs`)), 'the log says where the dashboard and the docs are')

  t.equal(await service.stop('SIGTERM'), 0, 'SIGTERM: a clean exit')
})
