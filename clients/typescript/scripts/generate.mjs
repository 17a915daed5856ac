/**
 * Generates src/schema.d.ts from the service's openapi.yaml with openapi-typescript
 * (`npm run client:generate` at the repo root), or with --check fails when the committed one
 * differs from what it would write (`npm run client:check`, run by .ci/run).
 * Uses openapi-typescript's Node API with its default ("minimal") Redocly config, so the repo's
 * redocly.yaml (for `npm run openapi:lint`) plays no part in the output.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import openapiTS, { COMMENT_HEADER, astToString } from 'openapi-typescript'

const OPENAPI = new URL('../../../openapi.yaml', import.meta.url)
const SCHEMA = fileURLToPath(new URL('../src/schema.d.ts', import.meta.url))
/** The generated file keeps openapi-typescript's own style (4 spaces, semicolons), not the repo's lint style. */
const BANNER = '/* eslint-disable */\n'

async function generate () {
  const ast = await openapiTS(OPENAPI, { silent: true })
  return `${BANNER}${COMMENT_HEADER}${astToString(ast)}`
}

const text = await generate()
if (process.argv.includes('--check')) {
  const committed = await readFile(SCHEMA, 'utf8').catch(() => '')
  const same = committed === text
  if (!same) {
    console.error(`client:check failed: ${relative(process.cwd(), SCHEMA)} differs from what openapi-typescript generates from openapi.yaml: run \`npm run client:generate\` and commit it`)
    process.exit(1)
  }
  console.log('clients/typescript/src/schema.d.ts matches openapi.yaml')
} else {
  await writeFile(SCHEMA, text)
  console.log(`wrote ${relative(process.cwd(), SCHEMA)}`)
}
