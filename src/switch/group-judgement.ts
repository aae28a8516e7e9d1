/**
 * May traffic be switched to this group? A pure judgement over what the command gathered: the
 * live daemon processes, the group's state file from its last roll, whether a roll holds its lock
 * now, and the answer of `--verify-url`.
 *
 * Ready means: at least one process is running (and as many as the group is configured for, when
 * that is known); the group is not in error-resistance mode and no roll is running or was left
 * half done; no live process reported a failed boot; and every live process either reported READY
 * in a roll, or `--verify-url` answered 2xx. A `--verify-url` that fails is never overridden by
 * the state file.
 */
import type { GroupState } from '../state/state-file.js'

export interface SwitchGroupFacts {
  group: string
  /** live daemon processes of the group now, from the process table */
  live: number[]
  /** how many processes the group is configured for, when the adapter knows (else: as many as its last roll left) */
  expected: number | null
  state: GroupState | null
  /** the pid of a live run holding the group's lock (a roll in progress), or null */
  rollRunner: number | null
  verify: VerifyOutcome | null
}

export interface VerifyOutcome {
  url: string
  ok: boolean
  /** `200 OK`, `500 Internal Server Error`, `connect ECONNREFUSED ...` */
  detail: string
}

export interface Judgement {
  ready: boolean
  /** why not, one phrase each, naming pids and values */
  problems: string[]
  /** pids with a READY record from the last roll */
  readyPids: number[]
  /** live pids the state file knows nothing about */
  unknownPids: number[]
}

const list = (pids: number[]): string => pids.join(', ')

export function judgeGroup(f: SwitchGroupFacts): Judgement {
  const problems: string[] = []
  const records = f.state?.workers ?? {}
  const readyPids: number[] = []
  const unknownPids: number[] = []
  const failed: string[] = []
  for (const pid of f.live) {
    const r = records[String(pid)]
    if (!r) unknownPids.push(pid)
    else if (r.ready) readyPids.push(pid)
    else failed.push(`${pid} (${r.status ?? 'READY=0'})`)
  }

  // A roll leaves one record per live process, so fewer live processes than records means some
  // died and Apache has not started their replacements yet.
  const gone = Object.keys(records).map(Number).filter((pid) => !f.live.includes(pid))
  if (f.live.length === 0) {
    problems.push(`no daemon process of ${f.group} is running`)
  } else if (f.expected !== null && f.live.length < f.expected) {
    problems.push(`only ${f.live.length} of its ${f.expected} processes are running (${list(f.live)})`)
  } else if (f.expected === null && f.live.length < Object.keys(records).length) {
    problems.push(`only ${f.live.length} of the ${Object.keys(records).length} processes it had after its last roll are running (gone: ${list(gone)})`)
  }
  const er = f.state?.errorResistance
  if (er) problems.push(`it is in error-resistance mode since ${er.at} (${er.reason}: ${er.message})`)
  if (f.rollRunner !== null) {
    problems.push(`a rolling restart of it is running now (pid ${f.rollRunner})`)
  } else if (f.state?.roll) {
    const r = f.state.roll
    problems.push(`its last roll (pid ${r.runPid}) stopped at step ${r.done + 1} of ${r.total} without finishing, so it may run two releases`)
  }
  if (failed.length) problems.push(`process${failed.length > 1 ? 'es' : ''} ${failed.join(', ')} reported a failed boot`)

  if (f.verify) {
    if (!f.verify.ok) problems.push(`--verify-url ${f.verify.url} answered ${f.verify.detail}, not 2xx`)
  } else if (unknownPids.length) {
    const why = f.state === null ? 'it has never been rolled by rolling-restart' : 'they started after its last roll'
    problems.push(`process${unknownPids.length > 1 ? 'es' : ''} ${list(unknownPids)} never reported READY (${why})`)
  }
  return { ready: problems.length === 0, problems, readyPids, unknownPids }
}
