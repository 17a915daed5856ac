import { setTimeout as delay } from 'node:timers/promises'
import { test } from 'tap'
import { buildApp } from './helpers/app.js'

test('under pressure (heap above its bound): 503 SERVICE_UNAVAILABLE with Retry-After; /healthz and /metrics still answer', async t => {
  // A 1 MiB heap bound is always exceeded, from the first sample on (taken once a second).
  const app = await buildApp(t, { PRESSURE_MAX_HEAP_MB: '1' })
  for (let i = 0; i < 100 && app.memoryUsage().heapUsed === 0; i++) await delay(50)
  t.ok(app.memoryUsage().heapUsed > 1024 * 1024, 'a heap sample above the bound was taken')
  const res = await app.inject({ url: '/v1/platforms' })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(res.json().code, 'SERVICE_UNAVAILABLE')
  t.equal(res.headers['retry-after'], '5')
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'liveness is not shed')
  const metrics = await app.inject({ url: '/metrics' })
  t.equal(metrics.statusCode, 200, 'the scrape is not shed')
  t.match(metrics.body, /bff_load_shed_total\{reason="heapUsedBytes"\} 1/)
})

test('with room to spare nothing is shed', async t => {
  const app = await buildApp(t)
  const res = await app.inject({ url: '/v1/works/douyin?accountId=a' })
  t.not(res.json().code, 'SERVICE_UNAVAILABLE', `answered by the route (${res.json().code})`)
})

test('oversized requests: header and URL bounds answer before any route', async t => {
  const app = await buildApp(t, { MAX_HEADER_BYTES: '2048' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const big = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { 'x-filler': 'x'.repeat(4096) } })
  t.equal(big.status, 431, 'headers above MAX_HEADER_BYTES')
  const longUrl = await fetch(`http://127.0.0.1:${port}/v1/platforms?x=${'y'.repeat(4096)}`)
  t.equal(longUrl.status, 431, 'a query string above it too')
  const body = await fetch(`http://127.0.0.1:${port}/v1/platforms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ x: 'y'.repeat(100_000) }) })
  t.ok(body.status === 413 || body.status === 404, `a body above the limit is refused (${body.status})`)
})
