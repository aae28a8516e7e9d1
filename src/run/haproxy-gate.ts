/**
 * Whether a run drains at HAProxy, answered from the flags alone: a run without --haproxy-* never
 * loads the HAProxy client (haproxy-around.ts and src/haproxy/). Each call goes on to
 * haproxy-around.ts only when the flags ask for it.
 */
import { EXIT, type ExitCode } from '../errors.js'
import type { Output } from '../output/logger.js'
import type { RollOutcome } from '../roll/roller.js'
import type { RestartFlags } from './flags.js'
import type { Drained } from './haproxy-around.js'
import type { HaproxyReport } from './haproxy-report.js'

type Around = { flags: RestartFlags; out: Output; interrupt?: AbortSignal | undefined }

/** Any --haproxy-socket or --haproxy-server given. */
export function asksHaproxy(f: RestartFlags): boolean {
  return (f.haproxySocket !== undefined && f.haproxySocket !== '') || (f.haproxyServer ?? []).length > 0
}

/** The --haproxy-* flags checked with the others, before any output opens (haproxy-around.ts haproxyPlan). */
export async function checkHaproxyFlags(f: RestartFlags): Promise<void> {
  if (asksHaproxy(f)) (await import('./haproxy-around.js')).haproxyPlan(f)
}

/** Before the lock: the socket answers and knows every named server (haproxy-around.ts checkHaproxy). */
export async function checkHaproxy(f: RestartFlags, out: Output): Promise<void> {
  if (asksHaproxy(f)) await (await import('./haproxy-around.js')).checkHaproxy(f, out)
}

/** The roll, drained at HAProxy around it when the flags ask (haproxy-around.ts drainAround). */
export async function drainAround(run: Around, roll: () => Promise<RollOutcome>): Promise<Drained> {
  if (!asksHaproxy(run.flags)) return { outcome: await roll(), haproxy: null }
  return (await import('./haproxy-around.js')).drainAround(run, roll)
}

/** A good roll whose servers could not be set back to ready is not a success: exit 3, it says why. */
export function exitAfterHaproxy(code: ExitCode, haproxy: HaproxyReport | null | undefined): ExitCode {
  return code === EXIT.OK && haproxy && !haproxy.restored ? EXIT.TARGET : code
}
