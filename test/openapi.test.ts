import { execFile } from 'node:child_process'
import { readFile, writeFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'tap'
import { parse } from 'yaml'
import { generateOpenApiYaml, OPENAPI_FILE, validateOpenApi } from '../scripts/openapi.js'

const run = promisify(execFile)

test('the committed openapi.yaml is what the app generates, and valid OpenAPI 3', async t => {
  const generated = await generateOpenApiYaml()
  t.same(await validateOpenApi(generated), [], 'valid')
  t.equal(await readFile(OPENAPI_FILE, 'utf8'), generated, 'no drift: run `npm run openapi` after changing routes or schemas')
  const doc = parse(generated)
  for (const path of ['/v1/platforms', '/v1/works/{platform}', '/v1/works/{platform}/{workId}/analytics', '/v1/douyin/task-videos/daily']) {
    const op = doc.paths[path]?.get
    t.ok(op, `${path} documented`)
    t.ok(op.tags?.length > 0 && op.summary && op.description, `${path} has tags, summary and description`)
    t.ok(op.responses['200'] && op.responses['400'] && op.responses['500'], `${path} declares its answers`)
  }
  for (const name of ['Problem', 'Metrics', 'Work', 'SeriesPoint', 'Page']) t.ok(doc.components.schemas[name], `${name} is one shared component`)
})

test('the drift check fails on a file that differs', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'openapi-'))
  const file = join(dir, 'openapi.yaml')
  await writeFile(file, (await readFile(OPENAPI_FILE, 'utf8')).replace('Metrics BFF', 'Something else'))
  const err = await run(process.execPath, ['--import', 'tsx', 'scripts/openapi.ts', '--check', '--file', file]).then(() => null, e => e)
  t.ok(err, 'exits non-zero')
  t.match(err?.stderr, /differs from what the app generates/)
})

test('Swagger UI can send a key: both schemes on /v1 and /metrics, probes open; one operationId each; error examples carry their own code', async t => {
  const doc = parse(await generateOpenApiYaml())
  t.same(Object.keys(doc.components.securitySchemes).sort(), ['apiKeyHeader', 'bearerKey'])
  t.equal(doc.components.securitySchemes.apiKeyHeader.name, 'X-Api-Key')
  t.ok(doc.servers?.length > 0, 'servers filled')
  const ids = new Set<string>()
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { operationId?: string, security?: unknown[], responses: Record<string, { content?: Record<string, { examples?: Record<string, { value: { code: string, status: number } }> }> }> }>>)) {
    for (const op of Object.values(item)) {
      t.ok(op.operationId && !ids.has(op.operationId), `${path}: its own operationId (${op.operationId})`)
      ids.add(op.operationId!)
      const keyed = path.startsWith('/v1/') || path === '/metrics'
      t.same(op.security, keyed ? [{ bearerKey: [] }, { apiKeyHeader: [] }] : [], `${path}: ${keyed ? 'a key' : 'open'}`)
      if (keyed) t.ok(op.responses['401'], `${path}: documents 401`)
      for (const [status, answer] of Object.entries(op.responses)) {
        const examples = answer.content?.['application/problem+json']?.examples
        if (status === '200' || examples === undefined) continue
        for (const [code, { value }] of Object.entries(examples)) t.ok(value.code === code && String(value.status) === status, `${path} ${status}: ${code}`)
      }
    }
  }
  t.ok(ids.size >= 8)
})

test('redocly lint (redocly.yaml): 0 errors', async t => {
  const { stdout, stderr } = await run(process.execPath, ['node_modules/@redocly/cli/bin/cli.js', 'lint', OPENAPI_FILE, '--config', 'redocly.yaml'], { timeout: 60_000 }).catch((err: { stdout: string, stderr: string }) => err)
  t.match(`${stdout}${stderr}`, /Your API description is valid/, 'no errors')
})

test('"Try it out" as Swagger UI fills it: every operation with its documented examples and a key answers 2xx against the sandboxes, today', async t => {
  const { stackApp, startSandboxes } = await import('./helpers/stack.js')
  const s = await startSandboxes(t)
  const key = 'try-it-out-key-0123456789abcdef'
  const app = await stackApp(t, s, { BFF_API_KEYS: `docs:${key}` })
  const doc = app.swagger() as unknown as { paths: Record<string, Record<string, { operationId: string, parameters?: Array<{ in: string, name: string, required?: boolean, schema?: { examples?: unknown[] }, examples?: Record<string, { value: unknown }>, example?: unknown }> }>> }
  const tried: string[] = []
  for (const [path, item] of Object.entries(doc.paths)) {
    const op = item.get
    if (op === undefined) continue
    let url = path
    const query = new URLSearchParams()
    for (const p of op.parameters ?? []) {
      // What Swagger UI prefills: the parameter's example, else its schema's first example.
      const value = p.example ?? Object.values(p.examples ?? {})[0]?.value ?? p.schema?.examples?.[0]
      if (value === undefined) {
        t.notOk(p.required, `${op.operationId}: required ${p.name} has an example`)
        continue
      }
      if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(String(value)))
      else if (p.in === 'query') query.set(p.name, String(value))
    }
    const res = await app.inject({ url: `${url}${query.size > 0 ? `?${query}` : ''}`, headers: { authorization: `Bearer ${key}` } })
    t.ok(res.statusCode >= 200 && res.statusCode < 300, `${op.operationId} ${url}?${query}: ${res.statusCode} ${res.statusCode >= 300 ? res.body.slice(0, 200) : ''}`)
    tried.push(op.operationId)
  }
  t.ok(tried.length >= 8, `tried ${tried.join(', ')}`)
})
