/**
 * What the drain at HAProxy did, for the run's report (`haproxy` in the JSON, a sentence at the end
 * of the message), and its events in words.
 */
import { formatMs } from '../config.js'
import { errorMessage } from '../errors.js'
import { restore, toRestore, type DrainResult } from '../haproxy/drain.js'
import type { HaproxyEmit, HaproxyEvent } from '../haproxy/events.js'
import type { HaproxyRuntime } from '../haproxy/runtime.js'
import { serverName } from '../haproxy/server-ref.js'
import type { RollOutcome } from '../roll/roller.js'

export interface HaproxyReport {
  /** the stats socket */
  socket: string
  /** BACKEND/SERVER names this run set to drain (they were ready before it) */
  drained: string[]
  /** every server this run drained is ready again */
  restored: boolean
  /** the named servers in drain when the run ended */
  leftDrained: string[]
  /** named servers already in drain or maint before the run: left as they were found */
  leftAsFound: string[]
  /** drained servers that still had sessions when --haproxy-drain-timeout ended the wait */
  timedOut: string[]
  /** what happened at HAProxy, in words: the last sentence of the run's message */
  message: string
}

/** After a good roll (or one that touched no worker): set the servers this run drained back to ready. */
export async function afterSuccess(
  runtime: HaproxyRuntime,
  socket: string,
  results: readonly DrainResult[],
  rolled: boolean,
  emit: HaproxyEmit,
): Promise<HaproxyReport> {
  const report = baseReport(socket, results)
  const ready: string[] = []
  const track: HaproxyEmit = (e) => {
    if (e.event === 'haproxy-ready') ready.push(e.server)
    emit(e)
  }
  const operators = results.filter((r) => r.before === 'drain').map(serverName)
  try {
    await restore(runtime, toRestore(results), track)
    report.restored = true
    report.leftDrained = operators
    const readied = report.drained.length > 0 ? `${list(report.drained)} ready again${rolled ? '' : ' (no worker was touched)'}.` : 'this run set no server to drain.'
    report.message = `HAProxy: ${readied}` + asFound(socket, results)
  } catch (err) {
    const stuck = report.drained.filter((name) => !ready.includes(name))
    report.leftDrained = [...stuck, ...operators]
    for (const server of stuck) emit({ event: 'haproxy-left-drained', server, why: `could not set it ready: ${errorMessage(err)}` })
    report.message =
      `HAProxy: ${rolled ? 'the roll succeeded, but ' : ''}${list(stuck)} could not be set back to ready (${errorMessage(err)}) ` +
      `and ${stuck.length === 1 ? 'is' : 'are'} still in drain: set ${stuck.length === 1 ? 'it' : 'them'} ready once HAProxy answers: ${readyCommand(socket, stuck)}.` +
      asFound(socket, results)
  }
  return report
}

/** After a failed roll: every server this run drained stays in drain, and the message says how to bring it back. */
export function afterFailure(socket: string, results: readonly DrainResult[], outcome: RollOutcome, emit: HaproxyEmit): HaproxyReport {
  const report = baseReport(socket, results)
  report.leftDrained = results.filter((r) => r.before !== 'maint').map(serverName)
  const why = `the roll stopped (${outcome.aborted?.reason ?? 'failed'}): no new request goes to this host until it is set ready`
  for (const server of report.drained) emit({ event: 'haproxy-left-drained', server, why })
  const one = report.drained.length === 1
  const left =
    report.drained.length === 0
      ? 'this run set no server to drain.'
      : `${list(report.drained)} ${one ? 'is' : 'are'} left in drain, so new requests keep away from this host. ` +
        `Once it is fixed and rolled (\`rolling-restart resume\`, then the roll again), set ${one ? 'it' : 'them'} ready: ${readyCommand(socket, report.drained)}.`
  report.message = `HAProxy: ${left}` + asFound(socket, results)
  return report
}

function baseReport(socket: string, results: readonly DrainResult[]): HaproxyReport {
  const ours = results.filter((r) => r.before === 'ready')
  return {
    socket,
    drained: ours.map(serverName),
    restored: false,
    leftDrained: [],
    leftAsFound: results.filter((r) => r.before !== 'ready').map(serverName),
    timedOut: ours.filter((r) => !r.drained).map(serverName),
    message: '',
  }
}

/** The runtime API command that sets them ready, sent to the socket (a shell line, in backquotes). */
export const readyCommand = (socket: string, names: readonly string[]): string =>
  `\`echo "${names.map((n) => `set server ${n} state ready`).join('; ')}" | socat stdio ${socket}\``

const list = (names: readonly string[]): string => (names.length > 0 ? names.join(', ') : 'no server')

/** The servers the operator had in drain or maint: left so, and how to bring a drained one back. */
function asFound(socket: string, results: readonly DrainResult[]): string {
  let said = ''
  for (const state of ['drain', 'maint'] as const) {
    const names = results.filter((r) => r.before === state).map(serverName)
    if (names.length === 0) continue
    const one = names.length === 1
    said += ` ${list(names)} ${one ? 'was' : 'were'} in ${state} before this run and ${one ? 'is' : 'are'} left so`
    said += state === 'drain' ? `: set ${one ? 'it' : 'them'} ready when ${one ? 'it' : 'they'} should take requests again: ${readyCommand(socket, names)}.` : '.'
  }
  return said
}

/** An HAProxy event in words (the log line's `msg`). */
export function describeHaproxy(e: HaproxyEvent): string {
  switch (e.event) {
    case 'haproxy-drain':
      if (e.before === 'maint') return `${e.server} is in maint: left so`
      if (e.before === 'drain') return `${e.server} was already in drain: it stays in drain after the roll`
      return `${e.server} set to drain (${e.scur} session(s) in flight)`
    case 'haproxy-drained':
      return `${e.server} has no session left (${formatMs(e.ms)})`
    case 'haproxy-drain-timeout':
      return `${e.server} still has ${e.scur} session(s) after ${formatMs(e.ms)}: rolling anyway (--haproxy-drain-timeout)`
    case 'haproxy-ready':
      return `${e.server} set back to ready`
    case 'haproxy-left-drained':
      return `${e.server} left in drain: ${e.why}`
  }
}
