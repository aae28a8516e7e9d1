/**
 * The app of `fastapi run [PATH] [--app NAME] [-e module:name]`, found the way fastapi-cli finds
 * it (fastapi_cli/discover.py): --entrypoint as given; else PATH, or the first of main.py, app.py,
 * api.py, app/main.py, app/app.py, app/api.py; the module is that file inside every parent
 * directory that has an __init__.py, imported from the directory above the top one. The app
 * object is --app, else `app` or `api`, else the first FastAPI instance: read here only from a
 * top-level `app = FastAPI(...)` or `api = FastAPI(...)`, never guessed beyond that.
 */
import { existsSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { readTextOrNull } from '../shared/quiet-fs.js'
import type { UvicornArgs } from './args.js'

const DEFAULT_PATHS = ['main.py', 'app.py', 'api.py', 'app/main.py', 'app/app.py', 'app/api.py']

export interface FastapiApp {
  spec: string | null
  /** the directory fastapi-cli puts on sys.path */
  pythonpath: string[]
  why?: string | undefined
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

/** The module name of `file` and the directory it is imported from. */
export function moduleOf(file: string, exists: (p: string) => boolean = existsSync): { module: string; root: string } {
  const parts = basename(file) === '__init__.py' ? [] : [basename(file).replace(/\.py$/, '')]
  let dir = dirname(file)
  while (exists(join(dir, '__init__.py')) && dirname(dir) !== dir) {
    parts.unshift(basename(dir))
    dir = dirname(dir)
  }
  return { module: parts.join('.'), root: dir }
}

/** `app` or `api` when the module assigns a FastAPI() to it at top level. */
export function appNameFromSource(text: string): string | null {
  for (const name of ['app', 'api']) if (new RegExp(`^${name}\\s*(?::[^=]+)?=\\s*FastAPI\\(`, 'm').test(text)) return name
  return null
}

export function fastapiApp(args: UvicornArgs, cwd: string): FastapiApp {
  if (args.app) return { spec: args.app, pythonpath: [] }
  const candidates = args.path ? [args.path] : DEFAULT_PATHS
  const found = candidates.map((c) => resolve(cwd, c)).find((p) => existsSync(p))
  if (!found) {
    return { spec: null, pythonpath: [], why: `fastapi run found none of ${candidates.join(', ')} in ${cwd}` }
  }
  const file = isDir(found) ? join(found, '__init__.py') : found
  const { module, root } = moduleOf(file)
  const name = args.appName ?? appNameFromSource(readTextOrNull(file) ?? '')
  if (!name) {
    return {
      spec: null,
      pythonpath: [root],
      why: `fastapi run picks the app object of ${file} itself (no --app NAME, and no top-level app = FastAPI(...) or api = FastAPI(...))`,
    }
  }
  return { spec: `${module}:${name}`, pythonpath: [root] }
}
