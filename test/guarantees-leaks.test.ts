/**
 * No secret leaves, against upstreams that misbehave the way real ones do (fake servers written
 * here, not our sandboxes): a token answer of the wrong types, a token echoed in an error message
 * or an HTML page, a caller's key sent in the query string. Logs are captured at trace level.
 */
import { Writable } from 'node:stream'
import { test } from 'tap'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import fp from 'fastify-plugin'
import pino from 'pino'
import app, { serverOptions } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { loggerOptions } from '../src/plugins/redact.js'
import { testEnv } from './helpers/app.js'
import { fakeServer, json } from './helpers/fake.js'
import type { Tap } from './helpers/redis.js'
import { startAitoearnSandbox } from '../src/sandbox/aitoearn/server.js'
import { SANDBOX_AITOEARN_API_KEY, beijingToday } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'

const TOKEN = 'act.LEAK-0123456789abcdef0123456789'
const SECOND = 'act.LEAK2-fedcba9876543210fedcba98'
const SECRET = 'client-secret-0123456789'
const DASH_KEY = 'dash-0123456789abcdef'
const DAILY = `/v1/douyin/task-videos/daily?billingDate=${addDays(beijingToday(), -1)}`

/** The app as the server builds it, with its logger writing every line (trace) where the test reads it. */
async function logged (t: Tap, env: Record<string, string>) {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } })
  const config = loadConfig(testEnv({ LOG_LEVEL: 'trace', ...env }))
  const server = Fastify({ ...serverOptions(config), loggerInstance: pino(loggerOptions('trace'), stream) as unknown as FastifyBaseLogger })
  await server.register(fp(app), { config })
  await server.ready()
  t.teardown(() => server.close())
  return { server, lines }
}

test('a token answer of the wrong types, and the token echoed back: never in a body or a log line', async t => {
  let mode = 'string-expiry'
  const douyin = await fakeServer(t, (req, res) => {
    if (req.url!.includes('token')) {
      if (mode === 'error-echo') return json(res, 200, { data: { error_code: 10013, description: `key or secret wrong (token ${SECOND}, secret ${SECRET})`, access_token: SECOND }, message: 'error' })
      if (mode === 'bad-shape') return json(res, 200, { data: { access_token: SECOND, expires_in: 'soon' }, message: 'success' })
      // expires_in as a string, as some gateways send it.
      return json(res, 200, { data: { access_token: TOKEN, expires_in: '7200', error_code: '0', description: '' }, message: 'success' })
    }
    if (mode === 'html') {
      res.writeHead(502, { 'content-type': 'text/html' })
      return res.end(`<html><body>bad gateway for access-token ${String(req.headers['access-token'])}</body></html>`)
    }
    json(res, 200, { err_no: 28001007, err_msg: `invalid request with access_token=${String(req.headers['access-token'])}`, log_id: 'log-1' })
  })
  const { server, lines } = await logged(t, { DOUYIN_BASE_URL: douyin.url, DOUYIN_SOURCE: 'daily', DOUYIN_CLIENT_KEY: 'client-key-1', DOUYIN_CLIENT_SECRET: SECRET, UPSTREAM_TIMEOUT_MS: '500', REQUEST_DEADLINE_MS: '2000' })

  const bodies: string[] = []
  const echoed = await server.inject({ url: DAILY })
  bodies.push(echoed.body)
  t.equal(echoed.statusCode, 400, 'the string expires_in was read as 7200: the token was used')
  t.equal(douyin.requests.at(-1)!.headers['access-token'], TOKEN)
  t.match(echoed.json(), { code: 'VALIDATION_FAILED', upstream: { code: 28001007, message: /\[redacted\]/ } }, 'err_msg kept, the token in it scrubbed')

  mode = 'html'
  const html = await server.inject({ url: `${DAILY}&pageSize=7` })
  bodies.push(html.body)
  t.equal(html.json().code, 'UPSTREAM_ERROR')
  t.notOk('message' in (html.json().upstream ?? {}), 'no sample of an upstream body in a problem')

  for (const m of ['error-echo', 'bad-shape']) {
    mode = m
    const fresh = await logged(t, { DOUYIN_BASE_URL: douyin.url, DOUYIN_SOURCE: 'daily', DOUYIN_CLIENT_KEY: `client-key-${m}`, DOUYIN_CLIENT_SECRET: SECRET })
    const res = await fresh.server.inject({ url: DAILY })
    bodies.push(res.body)
    lines.push(...fresh.lines)
    t.ok(res.statusCode >= 500, `${m}: ${res.statusCode} ${res.json().code}`)
  }

  const everything = `${bodies.join('\n')}\n${lines.join('')}`
  t.ok(lines.length > 20, `${lines.length} log lines read`)
  for (const secret of [TOKEN, SECOND, SECRET]) t.notOk(everything.includes(secret), `${secret.slice(0, 9)}... appears nowhere`)
})

test('a caller key in the query string is not logged; a cached 404 keeps nothing of the caller who filled it', async t => {
  const ai = await startAitoearnSandbox()
  t.teardown(() => ai.close())
  const { server, lines } = await logged(t, { AITOEARN_BASE_URL: ai.url, AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY, BFF_API_KEYS: `dashboard:${DASH_KEY}` })
  await server.inject({ url: `/v1/platforms?api_key=${DASH_KEY}&token=t0p-s3cret-v4lue` })
  const log = lines.join('')
  t.match(log, /api_key=\[redacted\]/, 'the URL is logged without the value')
  t.notOk(log.includes(DASH_KEY), 'the key appears nowhere')
  t.notOk(log.includes('t0p-s3cret-v4lue'))

  const url = '/v1/works/youtube/no-such-work/analytics?accountId=acc-youtube-1'
  const auth = { authorization: `Bearer ${DASH_KEY}` }
  const a = await server.inject({ url, headers: { ...auth, 'accept-language': 'zh-CN', 'x-request-id': 'PAY-AT.evil.example/x' } })
  t.equal(a.statusCode, 404)
  const b = await server.inject({ url, headers: { ...auth, 'x-request-id': 'caller-b' } })
  t.equal(b.statusCode, 404)
  t.match(b.headers['cache-status'], /detail=negative/, 'B got the remembered 404')
  t.notMatch(b.body, /evil\.example|PAY-AT/, "A's request id is not in B's answer")
  t.equal(b.json().requestId, 'caller-b')
  t.equal(ai.requests.at(-1)!.headers['accept-language'], 'en-US', "the upstream was asked in one language, whoever's request it was")
})
