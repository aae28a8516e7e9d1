/**
 * The clock that process start times are counted in: clock ticks since boot, the unit of
 * /proc/PID/stat's starttime (both count from the same boot-time clock, suspend included). A
 * signal's tick read here, just before kill(2), and a child's startTicks can be compared directly:
 * a process forked after the signal has startTicks >= the signal's tick. The resolution is one
 * tick (10 ms): a process forked in the same tick, just before the signal, compares as after it.
 */
import { readFileSync } from 'node:fs'
import { CLK_TCK } from './procfs.js'

/** Now, in clock ticks since boot (from /proc/uptime, which has the same 10 ms resolution). */
export function bootTick(): number {
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0])
  return Math.floor(uptime * CLK_TCK)
}

/** A span of ticks in seconds, for messages: `0.42 s`. */
export function ticksToSeconds(ticks: number): string {
  return `${(ticks / CLK_TCK).toFixed(2)} s`
}
