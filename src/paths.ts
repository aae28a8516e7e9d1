/** Where the package's own files are, wherever it is installed. */
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'python-hooks'))) {
    const up = resolve(dir, '..')
    if (up === dir) throw new Error('cannot find the rolling-restart package root (package.json next to python-hooks/)')
    dir = up
  }
  return dir
}

/** The directory to put on PYTHONPATH (or `pip install`): it holds the `rolling_restart_hook` package. */
export function hookPath(): string {
  return join(packageRoot(), 'python-hooks')
}
