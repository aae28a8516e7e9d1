/**
 * The virtualenv a Python server runs from, for hints that say how to install into it
 * (`/srv/venv/bin/pip install setproctitle` rather than a Debian package).
 */
import { existsSync } from 'node:fs'
import { dirname, isAbsolute, join } from 'node:path'
import { procInfo, readEnviron } from '../../proc/procfs.js'

/** PREFIX when `file` is PREFIX/bin/NAME and PREFIX/pyvenv.cfg exists. */
export function venvOfFile(file: string, exists: (p: string) => boolean = existsSync): string | null {
  if (!isAbsolute(file) || !/\/bin\/[^/]+$/.test(file)) return null
  const prefix = dirname(dirname(file))
  return exists(join(prefix, 'pyvenv.cfg')) ? prefix : null
}

/** The virtualenv of process `pid`: its interpreter or script (`/srv/venv/bin/python /srv/venv/bin/gunicorn`), else its VIRTUAL_ENV; null when none. */
export function venvOfProcess(pid: number): string | null {
  const argv = procInfo(pid)?.argv ?? []
  for (const a of argv.slice(0, 2)) {
    const venv = venvOfFile(a)
    if (venv) return venv
  }
  const env = readEnviron(pid)?.VIRTUAL_ENV
  return env && existsSync(join(env, 'pyvenv.cfg')) ? env : null
}

/** How to install a package into the server's Python: pip in its virtualenv, else the Debian package. */
export function installHint(pid: number, pipName: string, debianName: string): string {
  const venv = venvOfProcess(pid)
  return venv ? `${join(venv, 'bin', 'pip')} install ${pipName} (the server runs from the virtualenv ${venv})` : `apt-get install ${debianName} (Debian), or pip install ${pipName} into the server's Python`
}
