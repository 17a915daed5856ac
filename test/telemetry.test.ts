/**
 * OpenTelemetry (issue 19): one trace per request, under the caller's W3C traceparent, spanning
 * the route, the cache read, the Douyin limiter wait, the upstream calls and the Redis commands;
 * the traceparent goes on upstream; log lines carry the trace id; nothing secret in a span.
 * Tracing is per process: this file turns it on (in-memory exporter) for all its tests; the
 * last test runs the service as a process against a fake OTLP collector.
 */
import { Writable } from 'node:stream'
import { get as httpGet, createServer } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { test } from 'tap'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import fp from 'fastify-plugin'
import pino from 'pino'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { SpanStatusCode, trace } from '@opentelemetry/api'
import { secrets } from '../src/secrets.js'
import app, { serverOptions } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { loggerOptions } from '../src/plugins/redact.js'
import { startTelemetry } from '../src/telemetry.js'
import { testEnv } from './helpers/app.js'
import { sandboxEnv, startSandboxes } from './helpers/stack.js'
import { testRedis } from './helpers/redis.js'
import { startService } from './helpers/process.js'
import { DOUYIN_ACCOUNT_ID, DOUYIN_VIDEOS, SANDBOX_AITOEARN_API_KEY, SANDBOX_DOUYIN_CLIENT_SECRET } from '../src/sandbox/seed.js'

const exporter = new InMemorySpanExporter()
await startTelemetry({ exporter, serviceName: 'metrics-bff-test' })

const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('')
/** A caller's W3C trace context: its trace id and the span id of its own client span. */
function callerContext () {
  const traceId = hex(32)
  const parentId = hex(16)
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` }
}

const spansOf = (traceId: string) => exporter.getFinishedSpans().filter(s => s.spanContext().traceId === traceId)
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId

/** The names of a span's ancestors in its trace, nearest first. */
function ancestry (span: ReadableSpan, spans: ReadableSpan[]): string[] {
  const byId = new Map(spans.map(s => [s.spanContext().spanId, s]))
  const names: string[] = []
  for (let p = byId.get(parentOf(span) ?? ''); p !== undefined; p = byId.get(parentOf(p) ?? '')) names.push(p.name)
  return names
}

test('a merged view under a caller\'s traceparent: one trace from the route through cache, limiter and upstream to Redis', async t => {
  const s = await startSandboxes(t)
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } })
  const config = loadConfig(testEnv({ ...sandboxEnv(s), ...testRedis(t), LOG_LEVEL: 'info' }))
  const server = Fastify({ ...serverOptions(config), loggerInstance: pino(loggerOptions('info'), stream) as unknown as FastifyBaseLogger })
  await server.register(fp(app), { config })
  await server.ready()
  t.teardown(() => server.close())

  const caller = callerContext()
  const v = DOUYIN_VIDEOS[0]!
  const res = await server.inject({ url: `/v1/works/douyin/${v.videoId}/metrics?accountId=${DOUYIN_ACCOUNT_ID}`, headers: { traceparent: caller.traceparent, baggage: 'user=someone,plan=gold' } })
  t.equal(res.statusCode, 200, 'the view answers')

  const spans = spansOf(caller.traceId)
  const request = spans.find(x => x.name === 'request')
  t.ok(request, 'a request span in the caller\'s trace')
  t.equal(request && parentOf(request), caller.parentId, 'its parent is the caller\'s span')
  t.equal(request?.attributes['http.route'], '/v1/works/:platform/:workId/metrics')

  const names = new Set(spans.map(x => x.name))
  t.ok(names.has('cache.read'), 'cache reads are spans')
  t.ok(names.has('douyin.limiter.wait'), 'the limiter wait is a span')
  const upstream = spans.filter(x => x.attributes['url.full'] !== undefined)
  const douyinCalls = upstream.filter(x => String(x.attributes['url.full']).startsWith(s.dy.url))
  const downloads = upstream.filter(x => String(x.attributes['url.full']).startsWith(s.dy.cdn.url))
  t.ok(douyinCalls.length > 0, `${douyinCalls.length} Douyin API calls are spans`)
  t.ok(downloads.length > 0, `${downloads.length} bill downloads are spans`)
  const redis = spans.filter(x => x.attributes['db.system'] === 'redis' || x.attributes['db.system.name'] === 'redis')
  t.ok(redis.length > 0, `${redis.length} Redis commands are spans`)

  const call = douyinCalls[0]!
  const chain = ancestry(call, spans)
  t.equal(chain.at(-1), 'request', 'an upstream call leads up to the request span')
  t.ok(chain.includes('cache.read'), `through a cache read (${chain.join(' <- ')})`)
  const wait = spans.find(x => x.name === 'douyin.limiter.wait')!
  t.ok(ancestry(wait, spans).includes('cache.read'), 'the limiter wait sits inside the cache read whose fill it paces')
  t.ok(ancestry(redis[0]!, spans).includes('request'), 'a Redis command of the request leads up to it')

  const forwarded = [...s.dy.requests, ...s.dy.cdn.requests].map(r => String(r.headers.traceparent ?? ''))
  t.ok(forwarded.length > 0 && forwarded.every(tp => tp.startsWith(`00-${caller.traceId}-`)), 'every upstream request carried traceparent with the caller\'s trace id')
  t.ok([...s.dy.requests, ...s.dy.cdn.requests].every(r => r.headers.baggage === undefined), 'the caller\'s baggage is not passed on')

  // What a span must never hold: a signed link's query, Redis arguments, a secret.
  t.ok(upstream.every(x => !String(x.attributes['url.full']).includes('?')), 'url.full is origin and path only')
  const text = JSON.stringify(spans.map(x => ({ a: x.attributes, e: x.events, s: x.status })))
  const tokens = [...new Set(s.dy.requests.map(r => r.headers['access-token']).filter((x): x is string => typeof x === 'string'))]
  t.ok(tokens.length > 0, 'the Douyin calls carried an access token')
  for (const secret of [SANDBOX_AITOEARN_API_KEY, SANDBOX_DOUYIN_CLIENT_SECRET, ...tokens]) t.notOk(text.includes(secret), 'no key, secret or token in any span')
  const statements = redis.map(x => x.attributes['db.query.text'] ?? x.attributes['db.statement'])
  t.ok(statements.length > 0 && statements.every(st => typeof st === 'string' && /^[a-z]+$/i.test(st)), `Redis spans name the command only (${[...new Set(statements)].slice(0, 6).join(', ')})`)

  const traced = lines.map(l => JSON.parse(l) as Record<string, unknown>).filter(l => l.trace_id === caller.traceId)
  t.ok(traced.length > 0, `${traced.length} log lines carry the caller's trace id`)
  t.ok(traced.every(l => typeof l.span_id === 'string'), 'with the span id')
})

test('whoever records a secret in a span (an attribute, an exception, a status), it leaves scrubbed', async t => {
  const secret = 'sk-telemetry-test-0123456789'
  secrets.add(secret)
  const span = trace.getTracer('anyone').startSpan('leaky', { attributes: { 'url.path': `/v1/x?accountId=${secret}` } })
  span.recordException({ name: 'Error', message: `upstream said: bad key ${secret}` })
  span.setStatus({ code: SpanStatusCode.ERROR, message: `failed with ${secret}` })
  span.end()
  const out = exporter.getFinishedSpans().find(x => x.name === 'leaky')!
  const text = JSON.stringify({ a: out.attributes, e: out.events, s: out.status })
  t.notOk(text.includes(secret), 'the secret is gone')
  t.equal(out.attributes['url.path'], '/v1/x?accountId=[redacted]', 'replaced where it stood')
  t.match(out.events[0]?.attributes?.['exception.message'], /bad key \[redacted\]/)
  t.equal(out.status.message, 'failed with [redacted]')
})

/** A GET over node:http (not undici: the test's own call is no traced client span). */
function plainGet (url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers }, res => { res.resume(); res.on('end', () => resolve(res.statusCode!)) }).on('error', reject)
  })
}

test('a hit the cache front door answers is a span in the caller\'s trace too', async t => {
  const s = await startSandboxes(t)
  const config = loadConfig(testEnv(sandboxEnv(s)))
  const server = Fastify({ ...serverOptions(config), logger: false })
  await server.register(fp(app), { config })
  await server.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => server.close())
  const url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}/v1/works/tiktok?accountId=acc-tiktok-1&limit=5`
  t.equal(await plainGet(url, {}), 200, 'first call: the route fills and the front door learns')
  const served = server.frontDoor!.served
  const caller = callerContext()
  t.equal(await plainGet(url, { traceparent: caller.traceparent }), 200)
  t.equal(server.frontDoor!.served, served + 1, 'answered by the front door')
  const span = spansOf(caller.traceId).find(x => x.attributes['bff.front_door'] === true)
  t.ok(span, 'a SERVER span for it')
  t.equal(span?.name, 'GET /v1/works/:platform')
  t.equal(span && parentOf(span), caller.parentId, 'under the caller\'s span')
  t.equal(span?.attributes['http.response.status_code'], 200)
})

test('as a process: OTEL_EXPORTER_OTLP_ENDPOINT sends the spans to an OTLP/HTTP collector, flushed on SIGTERM', async t => {
  const received: Array<{ path: string, body: string }> = []
  const collector = createServer((req, res) => {
    let body = ''
    req.on('data', c => { body += String(c) })
    req.on('end', () => {
      received.push({ path: req.url ?? '', body })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  collector.listen(0, '127.0.0.1')
  await once(collector, 'listening')
  t.teardown(() => collector.close())
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`

  const service = await startService({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'bff-under-test' })
  t.teardown(() => service.stop('SIGKILL'))
  const caller = callerContext()
  t.equal(await plainGet(`${service.url}/v1/platforms`, { traceparent: caller.traceparent }), 200)
  t.equal(await service.stop('SIGTERM'), 0, 'exits cleanly')

  const traces = received.filter(r => r.path === '/v1/traces')
  t.ok(traces.length > 0, 'spans were posted to <endpoint>/v1/traces')
  const all = traces.map(r => r.body).join('\n')
  t.ok(all.includes(caller.traceId), 'the request\'s spans carry the caller\'s trace id')
  t.ok(all.includes('bff-under-test'), 'as OTEL_SERVICE_NAME')
  const logged = service.output.map(l => { try { return JSON.parse(l) as Record<string, unknown> } catch { return {} } })
  t.ok(logged.some(l => l.trace_id === caller.traceId), 'and the process\'s log lines name the trace')
})
