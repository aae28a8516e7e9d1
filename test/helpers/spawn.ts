// Starting a server process with its output in a log file, and reading that log back for errors.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'

export interface Spawned {
  child: ChildProcess
  pid: number
  /** Set once the process has exited: how it ended. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined
}

/** Spawns `command` with stdout and stderr appended to `logFile`; stdin is /dev/null. */
export const spawnLogged = (
  command: string,
  args: string[],
  { env, cwd, logFile, uid, gid }: { env: NodeJS.ProcessEnv; cwd?: string; logFile: string; uid?: number; gid?: number },
): Spawned => {
  const fd = openSync(logFile, 'a')
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined
  let child: ChildProcess
  try {
    child = spawn(command, args, { env, cwd, stdio: ['ignore', fd, fd], ...(uid !== undefined ? { uid, gid: gid ?? uid } : {}) })
  } finally {
    closeSync(fd)
  }
  child.on('exit', (code, signal) => (ended = { code, signal }))
  child.on('error', (error) => {
    ended ??= { code: null, signal: null }
    void error
  })
  if (child.pid === undefined) throw new Error(`could not start ${command}`)
  return { child, pid: child.pid, exit: () => ended }
}

/** The last `lines` lines of a file ('' if it does not exist). */
export const tail = (file: string, lines = 40): string =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n') : ''

/** An Error whose message ends with the tail of a log file. */
export const errorWithLog = (message: string, logFile: string): Error =>
  new Error(`${message}\n--- last lines of ${logFile} ---\n${tail(logFile)}`)
