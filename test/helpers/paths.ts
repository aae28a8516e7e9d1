// Where things live in the repository, computed from this file's location so tests can run from
// any working directory.
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const hooksDir = join(repoRoot, 'python-hooks')
export const fixturesDir = join(repoRoot, 'test', 'fixtures', 'apps')
export const binPath = join(repoRoot, 'bin', 'rolling-restart')

export type HookServer = 'gunicorn' | 'mod_wsgi' | 'uwsgi'

/** True once the bundled Python hook for `server` exists (it is written alongside this harness). */
export const hookAvailable = (server: HookServer): boolean =>
  existsSync(join(hooksDir, 'rolling_restart_hook', `${server}.py`))
