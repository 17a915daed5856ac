/**
 * Generates openapi.yaml from the app's route schemas (`npm run openapi`), or with --check fails
 * when the committed file differs from what the app generates or is not valid OpenAPI 3.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { Validator } from '@seriousme/openapi-schema-validator'
import app, { serverOptions } from '../src/app.js'
import { loadConfig } from '../src/config.js'

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.yaml', import.meta.url))

/** The document as the app generates it, independent of this machine's environment. */
export async function generateOpenApiYaml (): Promise<string> {
  const config = loadConfig({
    NODE_ENV: 'development',
    SANDBOX: 'false',
    LOG_LEVEL: 'silent',
    AITOEARN_API_KEY: 'docs',
    DOUYIN_ACCESS_TOKEN: 'docs'
  })
  const server = Fastify({ ...serverOptions(config), logger: false })
  await server.register(app, { config })
  await server.ready()
  try {
    const res = await server.inject({ method: 'GET', url: '/docs/yaml' })
    if (res.statusCode !== 200) throw new Error(`/docs/yaml answered ${res.statusCode}`)
    return res.body
  } finally {
    await server.close()
  }
}

/** Validates an OpenAPI document; returns the errors (empty when valid). */
export async function validateOpenApi (yamlText: string): Promise<string[]> {
  const validator = new Validator()
  const { parse } = await import('yaml')
  const result = await validator.validate(parse(yamlText) as Parameters<Validator['validate']>[0])
  return result.valid ? [] : [JSON.stringify(result.errors).slice(0, 2000)]
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const generated = await generateOpenApiYaml()
  const errors = await validateOpenApi(generated)
  if (errors.length > 0) {
    console.error(`The generated document is not valid OpenAPI 3: ${errors.join('\n')}`)
    process.exit(1)
  }
  const fileArg = process.argv.indexOf('--file')
  const file = fileArg > 0 ? process.argv[fileArg + 1]! : OPENAPI_FILE
  if (process.argv.includes('--check')) {
    const committed = await readFile(file, 'utf8').catch(() => '')
    if (committed !== generated) {
      console.error(`${file} differs from what the app generates: run \`npm run openapi\` and commit it`)
      process.exit(1)
    }
    console.log('openapi.yaml matches the app and is valid OpenAPI 3')
  } else {
    await writeFile(file, generated)
    console.log(`wrote ${file}`)
  }
}
