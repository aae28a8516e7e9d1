// The virtualenvs scripts/setup-venvs.sh makes in .venvs/ (Gunicorn 26, Uvicorn, FastAPI, Django
// from the package index), and servers started from them. A venv's bin/gunicorn is run by the
// venv's own python (what its shebang does), so a venv copied to another checkout still works.
import { cpSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { fixturesDir, repoRoot } from './paths.js'
import { tempDir, type Teardown } from './tmp.js'
import { startGunicorn, type Gunicorn, type GunicornOptions } from './gunicorn.js'

export type VenvName = 'gunicorn26' | 'uvicorn-standard'

export const venvDir = (name: VenvName): string => join(repoRoot, '.venvs', name)
export const venvPython = (name: VenvName): string => join(venvDir(name), 'bin', 'python')
export const venvScript = (name: VenvName, script: string): string => join(venvDir(name), 'bin', script)

/** Why the venv cannot be used, or null when it has `scripts`. */
export const venvMissing = (name: VenvName, ...scripts: string[]): string | null => {
  const missing = [venvPython(name), ...scripts.map((s) => venvScript(name, s))].filter((p) => !existsSync(p))
  return missing.length ? `${missing.join(', ')} missing: run bash scripts/setup-venvs.sh` : null
}

/** The command that runs a venv's script with the venv's python. */
export const venvCommand = (name: VenvName, script: string): string[] => [venvPython(name), venvScript(name, script)]

/** A temp copy of test/fixtures/apps (app modules, django_site/, _common.py), removed in teardown. */
export const fixtureTree = (t: Teardown): string => {
  const dir = tempDir(t, 'apps')
  cpSync(fixturesDir, dir, { recursive: true })
  return dir
}

/**
 * Gunicorn 26 from the venv: no setproctitle there, so the master keeps its command line and is
 * found by the proc_name of its config file; --no-control-socket, or each master would create
 * ~/.gunicorn/gunicorn.ctl (Gunicorn 20.1 does not know the flag).
 */
export const startVenvGunicorn = (t: Teardown, options: GunicornOptions & { venv?: VenvName }): Promise<Gunicorn> =>
  startGunicorn(t, {
    ...options,
    command: venvCommand(options.venv ?? 'gunicorn26', 'gunicorn'),
    args: ['--no-control-socket', ...(options.args ?? [])],
    titled: false,
  })
