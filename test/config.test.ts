import { test } from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

test('embedded defaults: no environment at all', async t => {
  const config = loadConfig({})
  t.equal(config.port, 3000)
  t.equal(config.host, '0.0.0.0')
  t.equal(config.logLevel, 'info')
  t.equal(config.redis, undefined, 'no Redis: in-process cache and limiter')
  t.equal(config.aitoearn.baseUrl, 'https://aitoearn.ai')
  t.equal(config.douyin.baseUrl, 'https://open.douyin.com')
  t.equal(config.douyin.qps, 10)
  t.ok(config.aitoearn.sandbox, 'no AiToEarn key: sandbox')
  t.ok(config.douyin.sandbox, 'no Douyin credentials: sandbox')
})

test('region picks the AiToEarn server unless a base URL is given', async t => {
  t.equal(loadConfig({ AITOEARN_REGION: 'cn' }).aitoearn.baseUrl, 'https://aitoearn.cn')
  t.equal(loadConfig({ AITOEARN_REGION: 'cn', AITOEARN_BASE_URL: 'http://127.0.0.1:4010/' }).aitoearn.baseUrl, 'http://127.0.0.1:4010')
})

test('credentials turn the sandbox off per upstream; SANDBOX forces it', async t => {
  const config = loadConfig({ AITOEARN_API_KEY: 'k' })
  t.notOk(config.aitoearn.sandbox)
  t.ok(config.douyin.sandbox)
  t.notOk(loadConfig({ DOUYIN_ACCESS_TOKEN: 't' }).douyin.sandbox)
  t.ok(loadConfig({ AITOEARN_API_KEY: 'k', SANDBOX: 'true' }).aitoearn.sandbox)
  t.notOk(loadConfig({ SANDBOX: 'false' }).douyin.sandbox)
})

test('a bad value names the variable in one line', async t => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'abc' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL/],
    [{ AITOEARN_REGION: 'eu' }, /AITOEARN_REGION/],
    [{ DOUYIN_QPS: '0' }, /DOUYIN_QPS/],
    [{ SANDBOX: 'maybe' }, /SANDBOX/],
    [{ DOUYIN_BASE_URL: 'open.douyin.com' }, /DOUYIN_BASE_URL/],
    [{ DOUYIN_CLIENT_KEY: 'only-the-key' }, /DOUYIN_CLIENT_SECRET/]
  ]
  for (const [env, name] of cases) {
    const err = t.throws(() => loadConfig(env)) as Error
    t.ok(err instanceof ConfigError, `${JSON.stringify(env)} is a ConfigError`)
    t.match(err.message, name)
    t.notMatch(err.message, /\n/, 'one line')
  }
})

test('production: no sandbox, and missing credentials stop the start', async t => {
  const err = t.throws(() => loadConfig({ NODE_ENV: 'production' })) as Error
  t.match(err.message, /AITOEARN_API_KEY/)
  t.match(err.message, /DOUYIN/)
  const config = loadConfig({ NODE_ENV: 'production', AITOEARN_API_KEY: 'k', DOUYIN_CLIENT_KEY: 'a', DOUYIN_CLIENT_SECRET: 'b', BFF_API_KEYS: 'svc:0123456789abcdef' })
  t.notOk(config.aitoearn.sandbox)
  t.notOk(config.douyin.sandbox)
})
