/** Reading a server's pidfile: the pid it names, or a TargetError that says what is wrong with it. */
import { readFileSync } from 'node:fs'
import { TargetError, errnoCode } from '../../errors.js'
import { procInfo } from '../../proc/procfs.js'

export function readPidfile(path: string, flag = '--pidfile'): number {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = errnoCode(err)
    throw new TargetError(
      code === 'ENOENT'
        ? `${flag} ${path}: no such file: is the server running, and is this the pidfile its configuration names?`
        : `${flag} ${path}: cannot read it (${code})`,
      'pidfile',
    )
  }
  const m = /^\s*(\d+)\s*$/.exec(text)
  if (!m) throw new TargetError(`${flag} ${path} does not hold a process id (it contains ${JSON.stringify(text.slice(0, 40))})`, 'pidfile')
  const pid = Number(m[1])
  if (!procInfo(pid)) {
    throw new TargetError(
      `${flag} ${path} is stale: it names pid ${pid}, which is not running. The server has stopped (check its log) or writes its pidfile elsewhere`,
      'pidfile-stale',
    )
  }
  return pid
}
