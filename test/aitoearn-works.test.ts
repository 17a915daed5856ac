import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp, testEnv } from './helpers/app.js'
import { loadConfig } from '../src/config.js'
import { startAitoearnSandbox, type AitoearnSandbox } from '../src/sandbox/aitoearn/server.js'
import { MODEL } from '../src/sandbox/aitoearn/providers.js'
import { DOUYIN_ACCOUNT_ID, SANDBOX_AITOEARN_API_KEY } from '../src/sandbox/seed.js'
import { LIST_LIMITS } from '../src/upstream/aitoearn/requests.js'

type Tap = { teardown: (fn: () => unknown) => void }

async function setup (t: Tap, env: Record<string, string> = {}): Promise<{ sandbox: AitoearnSandbox, app: FastifyInstance }> {
  const sandbox = await startAitoearnSandbox()
  t.teardown(() => sandbox.close())
  const app = await buildApp(t, { AITOEARN_BASE_URL: sandbox.url, AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY, ...env })
  return { sandbox, app }
}

const listUrl = (platform: string, query: Record<string, string | number>) =>
  `/v1/works/${platform}?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString()}`

t.test('cursor paging across pages returns every work once, cursors passing through opaque', async t => {
  const { sandbox, app } = await setup(t)
  const ids: string[] = []
  const cursors: string[] = []
  let cursor: string | undefined
  for (let i = 0; i < 10; i++) {
    const res = await app.inject({ url: listUrl('tiktok', { accountId: 'acc-tiktok-1', limit: 20, ...(cursor ? { cursor } : {}) }) })
    t.equal(res.statusCode, 200, 'HTTP 200', { body: res.body })
    const body = res.json()
    t.equal(body.platform, 'tiktok')
    t.equal(body.page.mode, 'cursor')
    t.equal(body.page.limit, 20)
    ids.push(...body.items.map((w: { workId: string }) => w.workId))
    if (!body.page.hasNext) {
      t.notOk('nextCursor' in body.page, 'no cursor on the last page')
      break
    }
    cursor = body.page.nextCursor as string
    cursors.push(cursor)
  }
  t.equal(ids.length, 45, 'three pages: 20 + 20 + 5')
  t.equal(new Set(ids).size, 45, 'no work twice')
  t.ok(cursors.every(c => /[+/]/.test(c)), 'the cursors carry + and / (standard base64)')
  const sent = sandbox.requests.filter(r => r.url.includes('pagination[cursor]=')).map(r => r.url)
  t.equal(sent.length, 2)
  t.ok(sent.every(u => u.includes('pagination[limit]=20') && /pagination\[cursor\]=[^&]*%2B/.test(u) && !/pagination\[cursor\]=[^&]*\+/.test(u)),
    'bracket form, cursor percent-encoded (a raw + would become a space upstream)')
  t.notOk(sandbox.requests.some(r => /[?&]limit=/.test(r.url)), 'never a bare limit')
})

t.test('facebook pages backwards with direction=previous', async t => {
  const { app } = await setup(t)
  const first = (await app.inject({ url: listUrl('facebook', { accountId: 'acc-facebook-1', limit: 10 }) })).json()
  const second = (await app.inject({ url: listUrl('facebook', { accountId: 'acc-facebook-1', limit: 10, cursor: first.page.nextCursor }) })).json()
  t.equal(second.page.hasPrevious, true)
  const back = await app.inject({ url: listUrl('facebook', { accountId: 'acc-facebook-1', limit: 10, cursor: second.page.previousCursor, direction: 'previous' }) })
  t.equal(back.statusCode, 200, 'HTTP 200', { body: back.body })
  t.same(back.json().items.map((w: { workId: string }) => w.workId), first.items.map((w: { workId: string }) => w.workId))
})

t.test('KWAI: hasNext from the page size, so an empty last page can follow', async t => {
  const { app } = await setup(t)
  const sizes: number[] = []
  let cursor: string | undefined
  for (let i = 0; i < 5; i++) {
    const body = (await app.inject({ url: listUrl('KWAI', { accountId: 'acc-kwai-1', limit: 20, ...(cursor ? { cursor } : {}) }) })).json()
    sizes.push(body.items.length)
    if (!body.page.hasNext) break
    cursor = body.page.nextCursor
  }
  t.same(sizes, [20, 20, 0])
})

t.test('a limit above the platform maximum is refused before any upstream call', async t => {
  const { sandbox, app } = await setup(t)
  const res = await app.inject({ url: listUrl('tiktok', { accountId: 'acc-tiktok-1', limit: 21 }) })
  t.equal(res.statusCode, 400)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(res.json().code, 'VALIDATION_FAILED')
  t.match(res.json().detail, /at most 20 for tiktok/)
  t.same(res.json().errors, [{ in: 'request', field: 'limit', message: 'must be at most 20 for tiktok' }])
  t.equal(sandbox.count(), 0, 'AiToEarn was not called')

  const route = await app.inject({ url: listUrl('KWAI', { accountId: 'acc-kwai-1', limit: 201 }) })
  t.equal(route.statusCode, 400, 'above every platform: the route schema refuses it')

  t.equal((await app.inject({ url: listUrl('KWAI', { accountId: 'acc-kwai-1', limit: 200 }) })).statusCode, 200, 'KWAI takes 200')
})

t.test('our limits table matches what the (sandbox) upstream enforces', async t => {
  for (const [platform, model] of Object.entries(MODEL)) {
    t.equal(LIST_LIMITS[platform as keyof typeof LIST_LIMITS]?.maxLimit, model.list?.maxLimit, platform)
  }
})

t.test('douyin listing is a clear 422, not a failure', async t => {
  const { app } = await setup(t)
  const res = await app.inject({ url: listUrl('douyin', { accountId: DOUYIN_ACCOUNT_ID }) })
  t.equal(res.statusCode, 422)
  const body = res.json()
  t.equal(body.code, 'OPERATION_NOT_SUPPORTED')
  t.match(body.detail, /cannot list douyin works/)
  t.match(body.detail, /Douyin taskbox/)
  t.match(body.upstream, { name: 'aitoearn', code: 15080 })
})

t.test('business errors map to our problems', async t => {
  const { app } = await setup(t)
  const unknown = await app.inject({ url: listUrl('tiktok', { accountId: 'nobody' }) })
  t.equal(unknown.statusCode, 404)
  t.match(unknown.json(), { code: 'NOT_FOUND', upstream: { name: 'aitoearn', code: 12600, message: 'Account not found' } })

  const mismatch = await app.inject({ url: listUrl('youtube', { accountId: 'acc-tiktok-1' }) })
  t.equal(mismatch.statusCode, 400)
  t.match(mismatch.json(), { code: 'VALIDATION_FAILED', upstream: { code: 15040 } })

  const pageMode = await app.inject({ url: listUrl('tiktok', { accountId: 'acc-tiktok-1', page: 1, pageSize: 10 }) })
  t.equal(pageMode.statusCode, 400)
  t.match(pageMode.json(), { code: 'VALIDATION_FAILED', upstream: { code: 15088 } })

  const previous = await app.inject({ url: listUrl('youtube', { accountId: 'acc-youtube-1', direction: 'previous', cursor: 'c' }) })
  t.match(previous.json(), { code: 'VALIDATION_FAILED', upstream: { code: 15091 } })
  const uncursored = await app.inject({ url: listUrl('facebook', { accountId: 'acc-facebook-1', direction: 'previous' }) })
  t.equal(uncursored.statusCode, 400, 'previous without a cursor: refused here, as AiToEarn would (its DTO)')
  t.match(uncursored.json(), { code: 'VALIDATION_FAILED', errors: [{ field: 'direction' }] })
  t.notOk('upstream' in uncursored.json(), 'before any call')

  const mixed = await app.inject({ url: listUrl('tiktok', { accountId: 'acc-tiktok-1', page: 1, pageSize: 10, limit: 5 }) })
  t.equal(mixed.statusCode, 400, 'page mode and cursor mode do not mix')
})

t.test('caller input is checked before anything reaches AiToEarn', async t => {
  const { sandbox, app } = await setup(t)
  for (const url of [
    '/v1/works/TikTok?accountId=acc-tiktok-1', // platform ids are case-sensitive
    '/v1/works/tiktok', // accountId is required
    `/v1/works/tiktok?accountId=${'a'.repeat(129)}`,
    '/v1/works/tiktok?accountId=a%00b',
    '/v1/works/tiktok?accountId=acc-tiktok-1&direction=sideways',
    '/v1/works/tiktok?accountId=acc-tiktok-1&limit=0'
  ]) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 400, url)
    t.equal(res.json().code, 'VALIDATION_FAILED', url)
  }
  t.equal(sandbox.count(), 0)
})

t.test('metrics the platform does not fill come back null, never 0', async t => {
  const { app } = await setup(t)
  const tiktok = (await app.inject({ url: listUrl('tiktok', { accountId: 'acc-tiktok-1', limit: 5 }) })).json()
  for (const work of tiktok.items) {
    t.type(work.metrics.viewCount, 'number')
    t.type(work.metrics.likeCount, 'number')
    t.equal(work.metrics.impressionCount, null)
    t.equal(work.metrics.playCount, null)
    t.equal(work.metrics.gmv, null)
    t.equal(work.source, 'aitoearn')
    t.equal(work.contentType, 'video')
    t.type(work.workId, 'string')
    t.match(work.workId, /^\d{19}$/)
    t.equal(work.accountId, 'acc-tiktok-1')
    t.match(work.publishedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    t.same(work.extra, {})
  }
  // Facebook's list items carry no metrics at all (facebook-work.provider.ts): every one null.
  const facebook = (await app.inject({ url: listUrl('facebook', { accountId: 'acc-facebook-1', limit: 3 }) })).json()
  t.ok(facebook.items.every((w: { metrics: Record<string, unknown> }) => Object.values(w.metrics).every(v => v === null)), 'facebook: no metrics listed')
  t.same(facebook.items.map((w: { contentType: string }) => w.contentType), ['video', 'image_text', 'text'], 'contentMode video/article/article2')
  const instagram = (await app.inject({ url: listUrl('instagram', { accountId: 'acc-instagram-1', limit: 3 }) })).json()
  const ig = instagram.items[0].metrics
  t.type(ig.likeCount, 'number')
  t.type(ig.commentCount, 'number')
  t.equal(ig.impressionCount, null, 'instagram lists likes and comments only')
  t.equal(ig.reachCount, null)
})

t.test('a wrong API key is our problem: 502 UPSTREAM_AUTH', async t => {
  const { app } = await setup(t, { AITOEARN_API_KEY: 'not-the-key' })
  const res = await app.inject({ url: listUrl('tiktok', { accountId: 'acc-tiktok-1' }) })
  t.equal(res.statusCode, 502)
  t.match(res.json(), { code: 'UPSTREAM_AUTH', upstream: { name: 'aitoearn', code: 401 } })
  t.notMatch(res.body, /not-the-key/, 'the key is never echoed')
})

t.test('x-request-id reaches AiToEarn; the caller\'s language does not (answers are shared by every caller)', async t => {
  const { sandbox, app } = await setup(t)
  const res = await app.inject({ url: listUrl('tiktok', { accountId: 'nobody' }), headers: { 'x-request-id': 'trace-42', 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' } })
  t.equal(res.headers['x-request-id'], 'trace-42')
  const sent = sandbox.requests.at(-1)!
  t.equal(sent.headers['x-request-id'], 'trace-42')
  t.equal(sent.headers['accept-language'], 'en-US', 'always en-US: a cached answer is the same whoever asked first')
  t.equal(sent.headers['x-api-key'], SANDBOX_AITOEARN_API_KEY)
  t.match(res.json(), { requestId: 'trace-42', upstream: { name: 'aitoearn' } })

  await app.inject({ url: listUrl('tiktok', { accountId: 'acc-tiktok-1' }), headers: { 'cache-control': 'no-cache' } })
  t.match(sandbox.requests.at(-1)!.headers['x-request-id'], /\S+/, 'a generated id is forwarded too')
})

t.test('answers from the sandbox upstream say so', async t => {
  const sandbox = await startAitoearnSandbox()
  t.teardown(() => sandbox.close())
  const base = loadConfig(testEnv({ AITOEARN_BASE_URL: sandbox.url, AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY }))
  const app = await buildApp(t, {}, { ...base, aitoearn: { ...base.aitoearn, sandbox: true } })
  const ok = await app.inject({ url: listUrl('tiktok', { accountId: 'acc-tiktok-1' }) })
  t.equal(ok.headers['x-bff-sandbox'], '1')
  const problem = await app.inject({ url: listUrl('tiktok', { accountId: 'acc-tiktok-1', limit: 999 }) })
  t.equal(problem.headers['x-bff-sandbox'], '1', 'errors too')

  const { app: real } = await setup(t)
  t.equal((await real.inject({ url: listUrl('tiktok', { accountId: 'acc-tiktok-1' }) })).headers['x-bff-sandbox'], undefined)
})
