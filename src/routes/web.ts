/**
 * The dashboard page: static files from public/ (GET / is public/index.html) and the chart library
 * from node_modules/uplot/dist under /vendor/uplot/ (served locally: the service may run without
 * internet). No build step; the page is plain HTML, CSS and ES modules that call the BFF's own API.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply } from 'fastify'
import fastifyStatic from '@fastify/static'

/** public/ beside src/ and dist/ (the same relative place from src/routes and dist/routes). */
export const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'public')
/** uPlot's dist folder, found the way Node resolves the package (hoisted or not). */
export const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot'))
/** The only uPlot files the page needs; nothing else of node_modules is reachable. */
export const UPLOT_FILES = ['uPlot.esm.js', 'uPlot.min.css'] as const

/**
 * Same-origin only: scripts, styles and data from this service, nothing inline, no framing.
 * uPlot styles its elements through the CSSOM, which style-src does not restrict.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

function securityHeaders (reply: FastifyReply): void {
  reply.header('content-security-policy', CSP)
  reply.header('x-content-type-options', 'nosniff')
  reply.header('referrer-policy', 'no-referrer')
}

export default async function web (app: FastifyInstance) {
  // wildcard: false registers one route per file found at start (no catch-all route: unknown
  // paths keep the app's ROUTE_NOT_FOUND problem and never touch the file system).
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    dotfiles: 'ignore',
    setHeaders: securityHeaders
  })

  for (const file of UPLOT_FILES) {
    app.get(`/vendor/uplot/${file}`, { schema: { hide: true } }, (_req, reply) => reply.sendFile(file, UPLOT_DIR))
  }
}
