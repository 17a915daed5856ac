import { Writable } from 'node:stream'
import { test } from 'tap'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import fp from 'fastify-plugin'
import pino from 'pino'
import app, { serverOptions } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { loggerOptions } from '../src/plugins/redact.js'
import { testEnv } from './helpers/app.js'
import { startSandboxes } from './helpers/stack.js'
import {
  DOUYIN_ACCOUNT_ID, DOUYIN_VIDEOS, SANDBOX_AITOEARN_API_KEY, SANDBOX_DOUYIN_CLIENT_KEY, SANDBOX_DOUYIN_CLIENT_SECRET, beijingToday
} from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'

const DASH_KEY = 'dash-0123456789abcdef'
const WRONG_KEY = 'wrong-key-0123456789'

test('a full run logged at trace level: none of the secrets appear in the log', async t => {
  const s = await startSandboxes(t)
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } })
  const config = loadConfig(testEnv({
    LOG_LEVEL: 'trace',
    AITOEARN_BASE_URL: s.ai.url,
    AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY,
    DOUYIN_BASE_URL: s.dy.url,
    DOUYIN_BILL_HOSTS: s.dy.cdn.url,
    DOUYIN_CLIENT_KEY: SANDBOX_DOUYIN_CLIENT_KEY,
    DOUYIN_CLIENT_SECRET: SANDBOX_DOUYIN_CLIENT_SECRET,
    BFF_API_KEYS: `dashboard:${DASH_KEY}`,
    UPSTREAM_TIMEOUT_MS: '200',
    REQUEST_DEADLINE_MS: '800'
  }))
  // The server's logger settings (src/server.ts), writing to a stream the test reads.
  const server = Fastify({ ...serverOptions(config), loggerInstance: pino(loggerOptions('trace'), stream) as unknown as FastifyBaseLogger })
  await server.register(fp(app), { config })
  await server.ready()
  t.teardown(() => server.close())

  const yesterday = addDays(beijingToday(), -1)
  const video = DOUYIN_VIDEOS[0]!.videoId
  const urls = [
    '/v1/platforms',
    '/v1/works/tiktok?accountId=acc-tiktok-1&limit=5',
    `/v1/works/douyin/${video}/analytics?accountId=${DOUYIN_ACCOUNT_ID}`,
    `/v1/douyin/task-videos/daily?billingDate=${yesterday}`,
    `/v1/works/douyin/${video}/metrics?accountId=${DOUYIN_ACCOUNT_ID}&until=${yesterday}`,
    '/metrics'
  ]
  const headerSets = [
    { authorization: `Bearer ${DASH_KEY}` },
    { 'x-api-key': DASH_KEY, 'cache-control': 'no-cache' },
    { authorization: `Bearer ${WRONG_KEY}` },
    { 'x-api-key': WRONG_KEY }
  ]
  for (const headers of headerSets) for (const url of urls) await server.inject({ url, headers })
  // Faults make the clients log warnings with samples of what the upstreams sent.
  s.dy.expireTokens()
  s.dy.addFault({ kind: 'body', path: '/oauth/', times: 1, body: JSON.stringify({ data: { error_code: 10013, description: `bad secret ${SANDBOX_DOUYIN_CLIENT_SECRET}` }, message: 'error' }) })
  s.ai.addFault({ kind: 'html', status: 502, times: 2 })
  for (const url of urls) await server.inject({ url, headers: { authorization: `Bearer ${DASH_KEY}`, 'cache-control': 'no-cache' } })
  // Anything that logs the config or a request's headers goes through the redaction paths too.
  server.log.info({ config, headers: { authorization: `Bearer ${DASH_KEY}`, 'x-api-key': DASH_KEY } }, 'config and headers')

  const tokens = new Set(s.dy.requests.map(r => r.headers['access-token']).filter((v): v is string => typeof v === 'string'))
  t.ok(tokens.size > 0, 'Douyin tokens were issued and used')
  const secrets = [DASH_KEY, WRONG_KEY, SANDBOX_AITOEARN_API_KEY, SANDBOX_DOUYIN_CLIENT_SECRET, ...tokens]
  const log = lines.join('')
  t.ok(lines.length > 50, `${lines.length} log lines read`)
  t.match(log, /"caller":"dashboard"/, 'the key name is logged')
  t.match(log, /\[redacted\]/, 'redaction happened')
  for (const secret of secrets) t.notOk(log.includes(secret), `${secret.slice(0, 4)}... does not appear`)
})
