/** Which Python interpreter an embedding server (mod_wsgi, uWSGI's python plugin) runs the app with. */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { mappedFiles } from '../../proc/procfs.js'

/** The interpreter matching the libpython an embedding server has loaded. */
export function interpreterOfLibpython(pid: number): string | undefined {
  for (const f of mappedFiles(pid)) {
    const m = /\/libpython(3\.\d+)\.so/.exec(f)
    const python = m ? `/usr/bin/python${m[1]}` : null
    if (python && existsSync(python)) return python
  }
  return undefined
}

/** The virtualenv's bin/python when `home` names one that has it, else the interpreter of the loaded libpython. */
export function interpreterFor(home: string | null | undefined, pid: number): string | undefined {
  const venvPython = home ? join(home, 'bin', 'python') : null
  return venvPython && existsSync(venvPython) ? venvPython : interpreterOfLibpython(pid)
}
