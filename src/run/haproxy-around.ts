/**
 * The drain at HAProxy around one host's roll (--haproxy-socket, --haproxy-server):
 *
 *   before the lock    the flags parse, the socket answers at level admin and knows every named
 *                      server; otherwise the run ends there (exit 2 or 3) and nothing is touched
 *   before the roll    (after the preflight) each server set to drain, then a wait until its
 *                      current sessions reach zero or --haproxy-drain-timeout passes
 *   after the roll     back to ready when the roll succeeded (or touched no worker); after a
 *                      failure each is left in drain, and the report says so
 */
import { resolve as resolvePath } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseDuration } from '../config.js'
import { Interrupted, UsageError, errorMessage } from '../errors.js'
import { checkServers } from '../haproxy/check.js'
import { HAPROXY_DEFAULTS } from '../haproxy/defaults.js'
import { drain, restore, type DrainResult } from '../haproxy/drain.js'
import type { HaproxyEmit, HaproxyEvent } from '../haproxy/events.js'
import { haproxyRuntime, type HaproxyRuntime } from '../haproxy/runtime.js'
import { parseHaproxyServer, serverName, type HaproxyServer } from '../haproxy/server-ref.js'
import type { AdminState } from '../haproxy/servers-state.js'
import type { Output } from '../output/logger.js'
import type { RollOutcome } from '../roll/roller.js'
import type { RestartFlags } from './flags.js'
import { afterFailure, afterSuccess, describeHaproxy, type HaproxyReport } from './haproxy-report.js'

export type { HaproxyReport } from './haproxy-report.js'

export interface HaproxyPlan {
  socket: string
  servers: HaproxyServer[]
  drainTimeoutMs: number
}

/** How a run reaches HAProxy; tests give a runtime over a scripted transport. */
export type Connect = (socketPath: string) => HaproxyRuntime

type Around = { flags: RestartFlags; out: Output; interrupt?: AbortSignal | undefined }

/** The --haproxy-* flags, checked; null when the run has no --haproxy-socket. */
export function haproxyPlan(f: RestartFlags): HaproxyPlan | null {
  const named = (f.haproxyServer ?? []).map(parseHaproxyServer)
  // one server named twice is drained once
  const servers = named.filter((s, i) => named.findIndex((o) => serverName(o) === serverName(s)) === i)
  if (f.haproxySocket === undefined || f.haproxySocket === '') {
    if (servers.length === 0) return null
    throw new UsageError(
      `--haproxy-server ${serverName(servers[0] as HaproxyServer)} needs --haproxy-socket PATH: the path of a "stats socket PATH level admin" line in haproxy.cfg`,
      'haproxy-socket',
    )
  }
  if (servers.length === 0) {
    throw new UsageError(
      `--haproxy-socket ${f.haproxySocket} needs at least one --haproxy-server BACKEND/SERVER: this host's servers in HAProxy, to drain around the roll`,
      'haproxy-server',
    )
  }
  const timeout = f.haproxyDrainTimeout ?? `${HAPROXY_DEFAULTS.drainTimeoutMs / 1000}s`
  return { socket: resolvePath(f.haproxySocket), servers, drainTimeoutMs: parseDuration('--haproxy-drain-timeout', timeout) }
}

/**
 * Before the lock and before any worker is looked at: the socket answers at level admin and every
 * --haproxy-server names a server HAProxy knows (a TargetError, exit 3, naming the fix, if not).
 */
export async function checkHaproxy(flags: RestartFlags, out: Output, connect: Connect = haproxyRuntime): Promise<void> {
  const plan = haproxyPlan(flags)
  if (!plan) return
  const states = await checkServers(connect(plan.socket), plan.servers)
  const servers = [...states.values()].map((s) => ({ server: serverName(s), admin: s.admin, op: s.op }))
  out.logger.info(
    { event: 'haproxy-checked', socket: plan.socket, servers },
    `HAProxy ${plan.socket} (level admin) knows ${servers.map((s) => `${s.server} (${s.admin}, ${s.op})`).join(', ')}`,
  )
}

export interface Drained {
  outcome: RollOutcome
  /** null without --haproxy-socket */
  haproxy: HaproxyReport | null
}

/** Drain, roll, then ready again only after a good roll. A failure to set drain rolls nothing. */
export async function drainAround(run: Around, roll: () => Promise<RollOutcome>, connect: Connect = haproxyRuntime): Promise<Drained> {
  const plan = haproxyPlan(run.flags)
  if (!plan) return { outcome: await roll(), haproxy: null }
  const runtime = connect(plan.socket)
  const emit = say(run.out)
  const results = await drainFirst(runtime, plan, run, emit)
  const outcome = await roll()
  const haproxy =
    outcome.ok || !touchedAny(outcome)
      ? await afterSuccess(runtime, plan.socket, results, outcome.ok, emit)
      : afterFailure(plan.socket, results, outcome, emit)
  return { outcome, haproxy }
}

export { exitAfterHaproxy } from './haproxy-gate.js'

/** Set drain and wait; Ctrl-C during the wait sets the servers ready again (no worker was touched yet). */
async function drainFirst(runtime: HaproxyRuntime, plan: HaproxyPlan, run: Around, emit: HaproxyEmit): Promise<DrainResult[]> {
  const before = new Map<string, AdminState>()
  const seen: HaproxyEmit = (e) => {
    if (e.event === 'haproxy-drain') before.set(e.server, e.before)
    emit(e)
  }
  const { interrupt } = run
  const wait = (ms: number) => sleep(ms, undefined, interrupt ? { signal: interrupt } : {})
  try {
    const results = await drain(runtime, plan.servers, { timeoutMs: plan.drainTimeoutMs, emit: seen, wait })
    if (!interrupt?.aborted) return results
  } catch (err) {
    if (!interrupt?.aborted) throw err
  }
  const ours = plan.servers.filter((s) => before.get(serverName(s)) === 'ready')
  const names = ours.map(serverName).join(', ') || 'none'
  const back = await restore(runtime, ours, emit).then(
    () => `set back to ready: ${names}`,
    (err: unknown) => `could not set ${names} back to ready, they may still be in drain: ${errorMessage(err)}`,
  )
  throw new Interrupted(`interrupted while HAProxy drained this host; no worker was touched; ${back}`)
}

/** Whether the roll signalled any worker: an interrupted roll that did not leaves the host as it was. */
const touchedAny = (outcome: RollOutcome): boolean => outcome.steps.some((s) => s.state !== 'pending')

/** Each HAProxy event to the log, and in a few words to the terminal. */
function say(out: Output): HaproxyEmit {
  return (e: HaproxyEvent) => {
    const line = describeHaproxy(e)
    const level = e.event === 'haproxy-left-drained' || e.event === 'haproxy-drain-timeout' ? 'warn' : 'info'
    out.logger[level](e, line)
    out.progress(`haproxy: ${line}`)
  }
}
