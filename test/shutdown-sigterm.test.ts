import { setTimeout as delay } from 'node:timers/promises'
import { Agent, get as httpGet } from 'node:http'
import { test, type Test } from 'tap'
import { startService } from './helpers/process.js'
import { sandboxEnv, startSandboxes, type Sandboxes } from './helpers/stack.js'
import type { Tap } from './helpers/redis.js'
import { DAILY_DATA_PATH } from '../src/sandbox/douyin/server.js'
import { beijingToday } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'

const WORKS_PATH = '/api/v2/channels/works/tiktok'

/** Waits for a condition by re-checking it (no fixed sleep decides the outcome). */
async function until (what: string, check: () => boolean, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return
    await delay(25)
  }
  throw new Error(`never happened: ${what}`)
}

async function service (t: Tap, s: Sandboxes, env: Record<string, string>) {
  const svc = await startService({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    SANDBOX: 'false',
    ...sandboxEnv(s),
    ...env
  })
  t.teardown(() => svc.stop('SIGKILL'))
  return svc
}

const answer = async (p: Promise<Response>) => {
  try {
    const res = await p
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() }
  } catch (err) {
    return { status: 0, retryAfter: null, body: String((err as Error).cause ?? err) }
  }
}

test('SIGTERM: no new connections; requests in flight and queued for Douyin finish; clean exit', async t => {
  const s = await startSandboxes(t)
  const svc = await service(t, s, { SHUTDOWN_GRACE_MS: '8000', DOUYIN_QPS: '2', DOUYIN_SOURCE: 'daily' })
  s.ai.addFault({ kind: 'latency', ms: 600, path: WORKS_PATH })
  const slow = [1, 2, 3].map(n => answer(fetch(`${svc.url}/v1/works/tiktok?accountId=acc-tiktok-1&limit=${n}`)))
  // Four Douyin queries at 2 per second: some wait in the limiter's queue when SIGTERM comes.
  const queued = [1, 2, 3, 4].map(n => answer(fetch(`${svc.url}/v1/douyin/task-videos/daily?billingDate=${addDays(beijingToday(), -n)}`)))
  await until('the slow requests reached AiToEarn', () => s.ai.count(WORKS_PATH) >= 3)
  await until('Douyin started answering', () => s.dy.count(DAILY_DATA_PATH) >= 1)
  t.ok(s.dy.count(DAILY_DATA_PATH) < 4, 'some Douyin queries are still queued')

  const exited = svc.stop('SIGTERM')
  await until('the service says it is draining', () => svc.output.some(l => /letting requests in flight finish/.test(l)))
  const late = await answer(fetch(`${svc.url}/healthz`))
  t.not(late.status, 200, `no new request is served while draining (${late.status} ${late.body.slice(0, 80)})`)

  for (const r of await Promise.all(slow)) t.equal(r.status, 200, 'a request in flight finished')
  for (const r of await Promise.all(queued)) t.equal(r.status, 200, 'a queued Douyin request finished')
  t.equal(s.dy.count(DAILY_DATA_PATH), 4)
  t.equal(await exited, 0, 'exit code 0')
  t.ok(svc.output.some(l => /"msg":"closing"/.test(l)), 'the log says it is closing')
})

test('SIGTERM: what is still running when the grace period ends is answered 503 with Retry-After', async t => {
  const s = await startSandboxes(t)
  const svc = await service(t, s, { SHUTDOWN_GRACE_MS: '300', UPSTREAM_TIMEOUT_MS: '20000', REQUEST_DEADLINE_MS: '60000' })
  s.ai.addFault({ kind: 'hang', path: WORKS_PATH })
  const stuck = [1, 2].map(n => answer(fetch(`${svc.url}/v1/works/tiktok?accountId=acc-tiktok-1&limit=${n}`)))
  await until('the requests reached AiToEarn', () => s.ai.faults.held.size >= 2)
  const exited = svc.stop('SIGTERM')
  for (const r of await Promise.all(stuck)) {
    t.equal(r.status, 503, 'answered 503')
    t.equal(r.retryAfter, '2', 'with Retry-After')
    t.match(JSON.parse(r.body), { code: 'SERVICE_UNAVAILABLE' })
  }
  t.equal(await exited, 0, 'exit code 0')
  t.ok(svc.output.some(l => /grace period over/.test(l)), 'the log says the grace period ran out')
})

/**
 * 20 clients, each on its own kept-alive connection, sending back to back through SIGTERM: every
 * request gets an answer (200 before, 503 + Connection: close after), none finds its socket
 * reset; a client whose connection closed finds the port closed (a refusal, not a reset).
 */
async function keepAliveThroughSigterm (t: Test, env: Record<string, string>) {
  const s = await startSandboxes(t)
  const svc = await service(t, s, { SHUTDOWN_GRACE_MS: '3000', ...env })
  const url = `${svc.url}/v1/works/tiktok?accountId=acc-tiktok-1&limit=5`
  t.equal((await fetch(url)).status, 200, 'warm: the next ones are cache hits')
  const agent = new Agent({ keepAlive: true, maxSockets: 20 })
  t.teardown(() => agent.destroy())
  const outcome = { ok: 0, refusedWithClose: 0, resets: [] as string[], connectionRefused: 0 }
  const state = { stop: false }
  const one = () => new Promise<void>(resolve => {
    const req = httpGet(url, { agent }, res => {
      res.resume()
      res.on('end', () => {
        if (res.statusCode === 200) outcome.ok++
        else if (res.statusCode === 503 && res.headers.connection === 'close') outcome.refusedWithClose++
        else outcome.resets.push(`HTTP ${res.statusCode}`)
        resolve()
      })
    })
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') {
        outcome.connectionRefused++
        state.stop = true
      } else outcome.resets.push(err.code ?? err.message)
      resolve()
    })
  })
  const client = async () => { for (let i = 0; i < 2000 && !state.stop; i++) await one() }
  const clients = Array.from({ length: 20 }, client)
  await until('every client has been answered a few times', () => outcome.ok >= 200)
  const exited = svc.stop('SIGTERM')
  await Promise.all(clients)
  t.equal(await exited, 0, 'exit code 0')
  t.same(outcome.resets, [], `no request lost to a reset (${outcome.ok} answered 200, ${outcome.refusedWithClose} 503 + Connection: close, then ${outcome.connectionRefused} refused connections)`)
  t.ok(outcome.refusedWithClose >= 1, 'requests on kept-alive connections after SIGTERM were told 503 + Connection: close')
}

test('SIGTERM with kept-alive connections busy, cache front door on: no reset', async t => {
  await keepAliveThroughSigterm(t, { RATE_LIMIT_MAX: '0' })
})

test('SIGTERM with kept-alive connections busy, caller budgets on (the default): no reset', async t => {
  await keepAliveThroughSigterm(t, { RATE_LIMIT_MAX: '100000' })
})
