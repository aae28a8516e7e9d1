/**
 * When the state directory cannot take a write (full, read-only, not ours, missing), say which
 * directory, why, and what to do, and carry an exit code instead of a stack trace. Like systemd and
 * PostgreSQL, a run refuses to start work it cannot record: before any signal this is exit 3.
 */
import { readFileSync, statSync, statfsSync } from 'node:fs'
import { formatBytes } from '../config.js'
import { EXIT, RollingRestartError, errnoCode, type ExitCode } from '../errors.js'

/** errno codes that are the environment's fault (the file system, its permissions), never a bug. */
export const ENVIRONMENT_ERRNO: ReadonlySet<string> = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOSPC',
  'EDQUOT',
  'EFBIG',
  'ENOENT',
  'ENOTDIR',
  'EISDIR',
  'ELOOP',
  'ENAMETOOLONG',
  'EIO',
  'EMFILE',
  'ENFILE',
])

export function isEnvironmentFault(err: unknown): boolean {
  const code = errnoCode(err)
  return code !== undefined && ENVIRONMENT_ERRNO.has(code)
}

/**
 * The state directory refused a write. `errno`: the system's code (`ENOSPC`). The message is the
 * fault (`detail`), what the run did or did not touch (`after`), and the fix.
 */
export class StateDirError extends RollingRestartError {
  constructor(
    readonly detail: string,
    readonly errno: string,
    readonly fix: string,
    readonly after = 'Nothing was touched',
    exitCode: ExitCode = EXIT.TARGET,
    code = 'state-dir',
  ) {
    super(`${detail}. ${after}. Fix: ${fix}`, exitCode, code)
  }

  /** The same fault, told with what a later stage of the run did, under its own exit code. */
  retold(after: string, exitCode: ExitCode, code: string): StateDirError {
    return new StateDirError(this.detail, this.errno, this.fix, after, exitCode, code)
  }
}

/** What can be seen of the directory and of us, for the message; a seam for tests. */
export interface FaultProbe {
  /** bytes free for an unprivileged user, or null */
  freeBytes(dir: string): number | null
  /** the directory's (or its nearest existing parent's) owner and mode, or null */
  owner(dir: string): { uid: number; mode: number } | null
  /** our uid, or null off Unix */
  uid(): number | null
  /** a user name for a uid, or null */
  userName(uid: number): string | null
}

export const systemProbe: FaultProbe = {
  freeBytes(dir) {
    try {
      const s = statfsSync(dir)
      return s.bavail * s.bsize
    } catch {
      return null
    }
  },
  owner(dir) {
    for (let d = dir; ; d = d.slice(0, d.lastIndexOf('/')) || '/') {
      try {
        const s = statSync(d)
        return { uid: s.uid, mode: s.mode & 0o7777 }
      } catch {
        if (d === '/') return null
      }
    }
  },
  uid: () => (typeof process.getuid === 'function' ? process.getuid() : null),
  userName(uid) {
    try {
      const line = readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((l) => l.split(':')[2] === String(uid))
      return line?.split(':')[0] || null
    } catch {
      return null
    }
  },
}

const ALSO = 'or choose another directory with --state-dir DIR (or ROLLING_RESTART_STATE_DIR)'

function who(probe: FaultProbe, uid: number | null): string {
  if (uid === null) return 'an unknown user'
  const name = probe.userName(uid)
  return name ? `${name} (uid ${uid})` : `uid ${uid}`
}

/** The cause and the fix for an errno code met while writing `dir`. Pure but for the probe. */
export function describeFault(dir: string, code: string, probe: FaultProbe = systemProbe): { cause: string; fix: string } {
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG': {
      const free = probe.freeBytes(dir)
      const what = code === 'EDQUOT' ? 'the disk quota is used up' : 'the file system is full'
      return {
        cause: `${what}${free !== null ? ` (${formatBytes(free)} free)` : ''}`,
        fix: `free some space on it, ${ALSO}`,
      }
    }
    case 'EROFS':
      return { cause: 'it is on a read-only file system', fix: `mount it read-write, ${ALSO}` }
    case 'EACCES':
    case 'EPERM': {
      const owner = probe.owner(dir)
      const me = probe.uid()
      const held = owner ? `it is owned by ${who(probe, owner.uid)} with mode ${owner.mode.toString(8).padStart(4, '0')}` : 'it is not writable'
      return {
        cause: `${held} and rolling-restart runs as ${who(probe, me)}`,
        fix: `run rolling-restart as the user that owns it (the one that runs the server), give it to this user (chown ${me ?? 'USER'} ${dir}), ${ALSO}`,
      }
    }
    case 'ENOENT':
      return { cause: 'it does not exist and could not be made', fix: `create it (mkdir -p ${dir}), ${ALSO}` }
    case 'ENOTDIR':
      return { cause: 'it (or a parent) is not a directory', fix: ALSO }
    default:
      return { cause: `the system said ${code}`, fix: `check the file system, ${ALSO}` }
  }
}

/**
 * The error to raise for `err`, met while `doing` (e.g. `writing the state file X`) in `dir`, or
 * null when it is not the environment's fault (then pass `err` on).
 */
export function stateDirFault(dir: string, err: unknown, opts: { doing?: string; probe?: FaultProbe } = {}): StateDirError | null {
  if (err instanceof StateDirError) return err
  if (err instanceof RollingRestartError || !isEnvironmentFault(err)) return null
  const errno = errnoCode(err) as string
  const { cause, fix } = describeFault(dir, errno, opts.probe)
  const doing = opts.doing ? ` (${opts.doing})` : ''
  return new StateDirError(`cannot write the state directory ${dir}${doing}: ${errno}: ${cause}`, errno, fix)
}
