/**
 * One JSON file per group in the state directory, replaced atomically (write a temporary file,
 * fsync it, rename it over the old one, fsync the directory), so a crash never leaves half a file.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { TargetError, UsageError, errnoCode } from '../errors.js'
import { tmpPathBeside, unlinkQuietly, writeFileAtomic, writeNewFile } from '../fs/atomic-write.js'
import { stateDirFault } from './state-fault.js'

export interface WorkerRecord {
  pid: number
  /** READY=1 with a 2xx status (false: the worker reported a failed probe) */
  ready: boolean
  /** the worker it replaced, when it came from one of our steps */
  replacedPid: number | null
  readyAt: number
  readyMs: number | null
  bootMs: number | null
  status: string | null
  release: string | null
  root: string | null
  /** it reported PRELOAD=1: it runs its master's code, whatever is on disk (no release is recorded) */
  preload?: boolean
  /**
   * how many times this worker's slot has been replaced by rolling-restart, counting this worker:
   * one more than the record of `replacedPid` said (state/slots.ts). Absent in files written before.
   */
  slotReplacements?: number
}

export interface ReplacedEntry {
  oldPid: number
  newPid: number
  readyMs: number
  status: string | null
  release: string | null
}

export interface ErrorResistance {
  reason: string
  message: string
  at: string
  runPid: number
  oldPid: number | null
  newPid: number | null
  replaced: ReplacedEntry[]
  /** old workers this run did not touch: they are still serving the previous code */
  untouched: number[]
  /** workers left above the configured count (a failed surge step); the next good run retires them */
  surplus: number
}

export interface RollProgress {
  runPid: number
  startedAt: string
  strategy: string
  total: number
  done: number
  /** old pids whose replacement is in flight */
  inFlight: number[]
  /** pids that were workers when the run started */
  oldPids: number[]
}

export interface RunSummary {
  at: string
  ok: boolean
  replaced: number
  aborted: string | null
  durationMs: number
}

export interface ReleaseHistoryEntry {
  release: string
  at: string
  /**
   * how it became live: by a deploy, by a rollback, or 'found' live when a deploy started and the
   * history did not know it (the first deploy, or `current` moved by hand). Absent in files written
   * before deploy existed (read as 'deploy').
   */
  action?: 'deploy' | 'rollback' | 'found'
  /** the --root of the deploy */
  root?: string
}

export interface ReleaseHistory {
  /** releases in the order they were made live, oldest first; the last one is live */
  history: ReleaseHistoryEntry[]
}

export interface GroupState {
  version: 1
  key: string
  group: string
  server: string
  masterPid: number
  errorResistance: ErrorResistance | null
  roll: RollProgress | null
  /** what each live worker last reported, by pid */
  workers: Record<string, WorkerRecord>
  /** surge workers left over from a failed run, retired at the end of the next good run */
  surplus: number
  runs: RunSummary[]
  releases: ReleaseHistory
  /** free-form room for the switch/deploy commands */
  extra: Record<string, unknown>
  updatedAt: string
}

/** `gunicorn` + `app:blue` -> `gunicorn--app%3Ablue`: safe as a file name, reversible, stable. */
export function stateKey(server: string, group: string): string {
  return `${server}--${encodeURIComponent(group).replace(/\./g, '%2E')}`
}

export function statePath(dir: string, key: string): string {
  return join(dir, `${key}.json`)
}

export function emptyState(key: string, group: string, server: string, masterPid: number): GroupState {
  return {
    version: 1,
    key,
    group,
    server,
    masterPid,
    errorResistance: null,
    roll: null,
    workers: {},
    surplus: 0,
    runs: [],
    releases: { history: [] },
    extra: {},
    updatedAt: new Date().toISOString(),
  }
}

export function ensureStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 })
  } catch (err) {
    const real = mkdirFault(dir, err)
    throw stateDirFault(dir, real, { doing: 'making it' }) ?? real
  }
}

/**
 * Node's recursive mkdir says ENOENT for any failure below an existing directory (read-only,
 * permission denied): make the first missing one without it, to hear the kernel's reason.
 */
function mkdirFault(dir: string, err: unknown): unknown {
  if (errnoCode(err) !== 'ENOENT') return err
  let d = dir
  while (dirname(d) !== d && !existsSync(dirname(d))) d = dirname(d)
  try {
    mkdirSync(d)
  } catch (real) {
    return real
  }
  return err
}

export function readState(dir: string, key: string): GroupState | null {
  const path = statePath(dir, key)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null
    throw new TargetError(`cannot read the state file ${path}: ${(err as Error).message}`, 'state-dir')
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    throw new UsageError(
      `the state file ${path} is not valid JSON: it was not written by this tool, or was edited by hand; move it aside to start the group afresh`,
      'state-corrupt',
    )
  }
  const s = data as Partial<GroupState>
  if (s.version !== 1 || typeof s.key !== 'string') {
    throw new UsageError(`the state file ${path} has an unknown format (version ${String(s.version)}); move it aside`, 'state-corrupt')
  }
  // Fill fields added after a file was written, so older files keep working.
  return { ...emptyState(s.key, s.group ?? '', s.server ?? '', s.masterPid ?? 0), ...s } as GroupState
}

/**
 * `durable` false: no fsync (writeFileAtomic), and the JSON on one line, for a roll's progress
 * (rewritten at every READY: at 64 workers the indentation was a third of the tool's CPU for
 * those writes). The record a run leaves behind is durable and indented.
 */
export function writeState(dir: string, state: GroupState, durable = true): void {
  // writeFileAtomic removes its temporary file on failure: the old state file is whole, or there is none
  atStatePath(dir, state.key, (path) => writeFileAtomic(path, recordText(state, durable), 0o644, durable))
}

/**
 * Whether the directory takes the group's state record as it stands, without replacing it: the
 * record is written whole at a temporary name beside it, then removed, without fsync. A directory
 * that is full, read-only or not ours fails here as it would on the real write, and the state
 * file itself is left as it was (durably written by the run that made it).
 */
export function probeStateWrite(dir: string, init: StateInit): void {
  const state = stateNow(dir, init)
  atStatePath(dir, init.key, (path) => {
    const tmp = tmpPathBeside(path)
    try {
      writeNewFile(tmp, Buffer.from(recordText(state), 'utf8'), 0o644, false)
    } finally {
      unlinkQuietly(tmp)
    }
  })
}

/**
 * Read (or start) the state, let `fn` change it, write it back. The caller holds the group's lock.
 * `known`: the state as this process last wrote it, used instead of reading the file again (a
 * roll's progress; nobody else writes it while the lock is held).
 */
export function updateState(dir: string, init: StateInit, fn: (s: GroupState) => void, durable = true, known?: GroupState): GroupState {
  const state = known ?? stateNow(dir, init)
  fn(state)
  writeState(dir, state, durable)
  return state
}

type StateInit = { key: string; group: string; server: string; masterPid: number }

/** The group's state as it stands (or a new one), for this run's master. */
function stateNow(dir: string, init: StateInit): GroupState {
  const state = readState(dir, init.key) ?? emptyState(init.key, init.group, init.server, init.masterPid)
  state.masterPid = init.masterPid
  return state
}

/** The record's text, stamped now: indented, or on one line. */
function recordText(state: GroupState, indented = true): string {
  state.updatedAt = new Date().toISOString()
  return (indented ? JSON.stringify(state, null, 2) : JSON.stringify(state)) + '\n'
}

/** `write` to the group's state file path, in a directory made if need be; what the directory refuses is its fault, named. */
function atStatePath(dir: string, key: string, write: (path: string) => void): void {
  ensureStateDir(dir)
  const path = statePath(dir, key)
  try {
    write(path)
  } catch (err) {
    throw stateDirFault(dir, err, { doing: `writing ${path}` }) ?? err
  }
}
