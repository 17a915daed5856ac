/**
 * The reference of the cache-hit benchmarks: a bare Fastify route that answers the same bytes, with
 * the same content type, from memory. BENCH_BODY_FILE names the file holding the bytes. Plain
 * JavaScript, run by plain node, as the BFF's compiled dist/ is: no TypeScript loader in either.
 */
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'

const body = readFileSync(process.env.BENCH_BODY_FILE ?? '')
const app = Fastify({ logger: false })
app.get('/bare', (_req, reply) => {
  reply.header('content-type', 'application/json; charset=utf-8').send(body)
})
const address = await app.listen({ port: 0, host: '127.0.0.1' })
console.log(`Server listening at ${address}`)
