/** The edges of HTTP every answer keeps: problems everywhere, no sniffing, no framing, no detail for strangers. */
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { test } from 'tap'
import { buildApp } from './helpers/app.js'
import { stackApp, startSandboxes } from './helpers/stack.js'

const KEY = 'dash-0123456789abcdef'
const auth = { authorization: `Bearer ${KEY}` }

/** Sends raw bytes and reads the raw answer (what no HTTP client would send). */
async function raw (port: number, request: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request))
    let out = ''
    socket.on('data', d => { out += String(d) })
    socket.on('close', () => resolve(out))
    socket.on('error', reject)
  })
}

test('request line and headers too large: a 431 problem with a code and a request id', async t => {
  const app = await buildApp(t, { MAX_HEADER_BYTES: '2048' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const answer = await raw(port, `GET /v1/platforms?q=${'x'.repeat(4096)} HTTP/1.1\r\nHost: x\r\n\r\n`)
  t.match(answer, /^HTTP\/1\.1 431 /)
  t.match(answer, /content-type: application\/problem\+json/i)
  t.match(answer, /x-request-id: \S+/i)
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))
  t.match(body, { status: 431, code: 'HEADERS_TOO_LARGE', requestId: /\S+/ })
  const garbage = await raw(port, 'NOT HTTP AT ALL\r\n\r\n')
  t.match(garbage, /^HTTP\/1\.1 400 [\s\S]*"code":"VALIDATION_FAILED"/, 'a malformed request: a 400 problem')
})

test('readiness tells strangers only ok or not; every answer says nosniff; /docs cannot be framed', async t => {
  const s = await startSandboxes(t)
  const app = await stackApp(t, s, { BFF_API_KEYS: `dashboard:${KEY}` })
  const open = (await app.inject({ url: '/readyz' })).json()
  t.same(Object.values(open.checks).map(c => Object.keys(c as object)), [['ok'], ['ok'], ['ok']], 'no detail without a key')
  const known = await app.inject({ url: '/readyz', headers: auth })
  t.ok(Object.values(known.json().checks).some(c => 'detail' in (c as object)), 'details with a key')
  t.notMatch(known.body, /127\.0\.0\.1|https?:/, 'and never an upstream address')

  for (const url of ['/v1/platforms', '/v1/nope', '/healthz']) {
    t.equal((await app.inject({ url, headers: auth })).headers['x-content-type-options'], 'nosniff', `${url}: nosniff`)
  }
  const docs = await app.inject({ url: '/docs/static/index.html' })
  t.match(docs.headers['content-security-policy'], /frame-ancestors 'none'/)
  t.notMatch(docs.headers['content-security-policy'], /upgrade-insecure-requests/)
  t.equal(docs.headers['x-content-type-options'], 'nosniff')
  t.equal((await app.inject({ url: '/healthz/' })).statusCode, 200, 'an open path with a trailing slash is still open')
})

test('numbers in the query are decimal digits: 0x10, 1e1, +5 and " 5" are refused, every failing field listed', async t => {
  const s = await startSandboxes(t)
  const app = await stackApp(t, s)
  t.equal((await app.inject({ url: '/v1/works/tiktok?accountId=acc-tiktok-1&limit=16' })).statusCode, 200)
  for (const value of ['0x10', '1e1', '%2B5', '%205', '0b1', '1.0']) {
    const res = await app.inject({ url: `/v1/works/tiktok?accountId=acc-tiktok-1&limit=${value}` })
    t.equal(res.statusCode, 400, `limit=${value}`)
    t.ok(res.json().errors.some((e: { field: string }) => e.field === 'limit'))
  }
  const both = await app.inject({ url: '/v1/works/tiktok?limit=0x10' })
  t.same(both.json().errors.map((e: { field: string }) => e.field).sort(), ['accountId', 'limit'], 'listed with the others')
})
