import { test } from 'tap'
import { buildApp } from './helpers/app.js'

test('unknown routes answer a problem', async t => {
  const app = await buildApp(t)
  const res = await app.inject({ method: 'GET', url: '/nope?x=1' })
  t.equal(res.statusCode, 404)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  const body = res.json()
  t.equal(body.code, 'ROUTE_NOT_FOUND')
  t.equal(body.status, 404)
  t.equal(body.requestId, res.headers['x-request-id'])
  t.match(body.type, /^urn:metrics-bff:problem:/)
})

test('request ids: a sane one is echoed, an odd one replaced', async t => {
  const app = await buildApp(t)
  const given = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'dash-42.abc' } })
  t.equal(given.headers['x-request-id'], 'dash-42.abc')
  for (const bad of ['a'.repeat(200), 'has space', 'quote"', '']) {
    const res = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': bad } })
    const id = res.headers['x-request-id'] as string
    t.ok(id && id !== bad && /^[0-9a-f]{12}-[0-9a-z]+$/.test(id), `replaced ${JSON.stringify(bad.slice(0, 10))}`)
  }
  const a = await app.inject({ method: 'GET', url: '/healthz' })
  const b = await app.inject({ method: 'GET', url: '/healthz' })
  t.not(a.headers['x-request-id'], b.headers['x-request-id'], 'generated ids differ')
})

test('liveness and readiness without Redis', async t => {
  const app = await buildApp(t, { AITOEARN_API_KEY: 'k', DOUYIN_ACCESS_TOKEN: 't' })
  const live = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(live.statusCode, 200)
  t.same(live.json(), { status: 'ok' })
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.equal(ready.json().ready, true)
})

test('readiness is false when the configured Redis does not answer', async t => {
  const app = await buildApp(t, { REDIS_URL: 'redis://127.0.0.1:1', AITOEARN_API_KEY: 'k', DOUYIN_ACCESS_TOKEN: 't' })
  const res = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(res.statusCode, 503)
  const body = res.json()
  t.equal(body.ready, false)
  t.equal(body.checks.redis.ok, false)
  t.equal(body.checks.aitoearn.ok, true)
})

test('readiness is false when an upstream has neither credentials nor a sandbox', async t => {
  const app = await buildApp(t)
  const res = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().checks.aitoearn.ok, false)
})

test('the docs are served: UI, JSON and YAML', async t => {
  const app = await buildApp(t)
  const ui = await app.inject({ method: 'GET', url: '/docs' })
  t.ok(ui.statusCode === 200 || ui.statusCode === 302, 'UI answers')
  const json = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(json.statusCode, 200)
  t.equal(json.json().openapi, '3.1.0')
  t.ok(json.json().components.schemas.Problem, 'one shared Problem schema')
  const yaml = await app.inject({ method: 'GET', url: '/docs/yaml' })
  t.equal(yaml.statusCode, 200)
  t.match(yaml.body, /openapi: 3\.1\.0/)
})

test('validation errors are problems that list every failing field', async t => {
  const app = await buildApp(t, { AITOEARN_API_KEY: 'k' })
  const res = await app.inject({ method: 'GET', url: '/v1/works/tiktok?limit=abc&direction=sideways' })
  t.equal(res.statusCode, 400)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  const body = res.json()
  t.equal(body.code, 'VALIDATION_FAILED')
  const fields = body.errors.map((e: { field: string }) => e.field)
  t.ok(fields.includes('accountId'), 'missing accountId listed')
  t.ok(fields.includes('limit'), 'bad limit listed')
  t.ok(fields.includes('direction'), 'bad direction listed')
  t.ok(body.errors.every((e: { in: string }) => e.in === 'querystring'))

  const platform = await app.inject({ method: 'GET', url: '/v1/works/TikTok?accountId=a' })
  t.equal(platform.statusCode, 400, 'platform ids are case-sensitive')
  t.equal(platform.json().errors[0].in, 'params')
})
