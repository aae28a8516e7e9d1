/**
 * A master's log file, found from its open file descriptors, and what it says about one worker's
 * end. Best effort: a log that cannot be found or read is simply not quoted.
 */
import { readFdTarget } from '../../proc/procfs.js'
import type { Target } from '../types.js'
import { readTail } from './log-tail.js'

/** The master's log file, when its stderr (or stdout) goes to a regular file. */
export function logFileOf(pid: number): string | null {
  for (const fd of [2, 1]) {
    const t = readFdTarget(pid, fd)
    if (t && t.startsWith('/') && !t.startsWith('/dev/') && !t.endsWith(' (deleted)')) return t
  }
  return null
}

/** What a server's log says about how a worker ended, when it says anything. */
export interface ExitEvidence {
  /** crashed: a signal, a non-zero exit, a timeout kill. recycled: it ended on purpose (max-requests), its master respawns it */
  kind: 'crashed' | 'recycled'
  /** in the server's words, for the message: `terminated by signal 9` */
  detail: string
}

export interface EvidenceRule {
  /** matched against each log line; `$PID` stands for the worker's pid */
  pattern: string
  kind: ExitEvidence['kind']
  /** the detail, with $1, $2 replaced by the pattern's groups */
  detail: string
}

/**
 * The evidence of the last line about `pid` that a rule matches; a crash wins over a recycle seen
 * in the same text (a worker that logged its recycle and then crashed crashed).
 */
export function exitEvidence(text: string, pid: number, rules: readonly EvidenceRule[]): ExitEvidence | null {
  let found: ExitEvidence | null = null
  const compiled = rules.map((r) => ({ ...r, re: new RegExp(r.pattern.replaceAll('$PID', String(pid))) }))
  for (const line of text.split('\n')) {
    for (const r of compiled) {
      const m = r.re.exec(line)
      if (!m) continue
      const detail = r.detail.replace(/\$(\d)/g, (_, i: string) => m[Number(i)] ?? '')
      if (found?.kind !== 'crashed' || r.kind === 'crashed') found = { kind: r.kind, detail }
    }
  }
  return found
}

/** What the target master's log (meta.log, else its stderr) says about worker `pid`'s end, by `rules`. */
export function logExitEvidence(target: Target, pid: number, rules: readonly EvidenceRule[]): ExitEvidence | null {
  const path = (target.meta.log as string | null | undefined) ?? logFileOf(target.masterPid)
  const text = path ? readTail(path) : null
  return text ? exitEvidence(text, pid, rules) : null
}
