/**
 * Drain around a host's roll: set each server to drain (one already in maint is left in maint), wait until its current sessions reach zero
 * (or the timeout, after which the roll goes ahead), and afterwards set it back to ready. Read as
 * steps: check, set drain, wait for zero sessions; restore is its own call, made only on success.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { checkServers } from './check.js'
import { HAPROXY_DEFAULTS } from './defaults.js'
import type { HaproxyEmit } from './events.js'
import type { HaproxyRuntime } from './runtime.js'
import { serverName, type HaproxyServer } from './server-ref.js'
import type { AdminState } from './servers-state.js'

export interface DrainOptions {
  timeoutMs?: number
  intervalMs?: number
  emit?: HaproxyEmit
  now?: () => number
  wait?: (ms: number) => Promise<unknown>
}

export interface DrainResult extends HaproxyServer {
  /** the admin state before we set drain: a server the operator had in drain or maint was not ours */
  before: AdminState
  /** true when its sessions reached zero before the timeout */
  drained: boolean
  /** sessions still on it when the wait ended */
  scur: number
  ms: number
}

export async function drain(
  runtime: HaproxyRuntime,
  servers: readonly HaproxyServer[],
  options: DrainOptions = {},
): Promise<DrainResult[]> {
  const o = {
    timeoutMs: HAPROXY_DEFAULTS.drainTimeoutMs,
    intervalMs: HAPROXY_DEFAULTS.pollIntervalMs,
    emit: () => {},
    now: Date.now,
    wait: sleep,
    ...options,
  }
  const before = await checkServers(runtime, servers)
  const set: HaproxyServer[] = []
  try {
    for (const ref of servers) {
      // A server in maint already gets no traffic, and `state drain` would take it out of maint.
      if (before.get(serverName(ref))?.admin === 'maint') continue
      await runtime.setState(ref, 'drain')
      set.push(ref)
    }
  } catch (err) {
    // Nothing is rolled after a failed drain: put back the ones this call had already set.
    await restore(runtime, set.filter((ref) => before.get(serverName(ref))?.admin === 'ready')).catch(() => {})
    throw err
  }
  return waitForZeroSessions(runtime, servers, before, o)
}

async function waitForZeroSessions(
  runtime: HaproxyRuntime,
  servers: readonly HaproxyServer[],
  before: Map<string, { admin: AdminState }>,
  o: Required<DrainOptions>,
): Promise<DrainResult[]> {
  const start = o.now()
  const results = new Map<string, DrainResult>()
  let first = true
  for (;;) {
    const scur = await sessions(runtime, servers)
    const ms = o.now() - start
    for (const ref of servers) {
      const name = serverName(ref)
      const n = scur.get(name) ?? 0
      if (first) o.emit({ event: 'haproxy-drain', server: name, before: before.get(name)?.admin ?? 'ready', scur: n })
      if (n === 0 && !results.has(name)) {
        results.set(name, { ...ref, before: before.get(name)?.admin ?? 'ready', drained: true, scur: 0, ms })
        o.emit({ event: 'haproxy-drained', server: name, ms })
      }
    }
    first = false
    if (results.size === servers.length) break
    if (ms >= o.timeoutMs) {
      for (const ref of servers.filter((r) => !results.has(serverName(r)))) {
        const name = serverName(ref)
        const n = scur.get(name) ?? 0
        results.set(name, { ...ref, before: before.get(name)?.admin ?? 'ready', drained: false, scur: n, ms })
        o.emit({ event: 'haproxy-drain-timeout', server: name, ms, scur: n })
      }
      break
    }
    await o.wait(o.intervalMs)
  }
  return servers.map((ref) => results.get(serverName(ref)) as DrainResult)
}

/** Current sessions of each named server, one `show stat` per backend. */
async function sessions(runtime: HaproxyRuntime, servers: readonly HaproxyServer[]): Promise<Map<string, number>> {
  const scur = new Map<string, number>()
  for (const backend of new Set(servers.map((s) => s.backend))) {
    for (const row of await runtime.stat(backend)) scur.set(serverName(row), row.scur)
  }
  return scur
}

/** Sets each server back to ready; tries every one, then throws the first failure. */
export async function restore(
  runtime: HaproxyRuntime,
  servers: readonly HaproxyServer[],
  emit: HaproxyEmit = () => {},
): Promise<void> {
  let failure: unknown
  for (const ref of servers) {
    try {
      await runtime.setState(ref, 'ready')
      emit({ event: 'haproxy-ready', server: serverName(ref) })
    } catch (err) {
      failure ??= err
    }
  }
  if (failure !== undefined) throw failure
}

/**
 * The servers a successful roll should set back to ready: those that were ready before the drain.
 * One the operator had in drain or maint stays as the operator left it.
 */
export const toRestore = (results: readonly DrainResult[]): HaproxyServer[] =>
  results.filter((r) => r.before === 'ready').map(({ backend, server }) => ({ backend, server }))
