/**
 * Whether uWSGI workers load the app themselves (lazy-apps): without it the master loads it once
 * and every restarted worker forks that old code.
 */
import { readTail } from '../shared/log-tail.js'
import { boolOption, type UwsgiOptions } from './options.js'

export interface LazyFacts {
  on: boolean | null
  evidence: string
}

const APP_READY = /WSGI app \d+ \(mountpoint='[^']*'\) ready in \d+ seconds on interpreter \S+ pid: (\d+)/g

/** Whether workers load the app themselves (lazy-apps), from the options, else from what the log says loaded it. */
export function lazyOf(masterPid: number, options: UwsgiOptions, complete: boolean, log: string | null, logText?: string | null): LazyFacts {
  const from = options.sources.join(', ') || 'the options'
  for (const name of ['lazy-apps', 'lazy']) {
    const v = boolOption(options, name)
    if (v !== null) return { on: v, evidence: v ? `${name} is on (${from})` : `${name} is false (${from})` }
  }
  const text = logText !== undefined ? logText : log ? readTail(log) : null
  if (text) {
    const all = [...text.matchAll(APP_READY)]
    const last = all[all.length - 1]
    if (last) {
      const pid = Number(last[1])
      return pid === masterPid
        ? { on: false, evidence: `uWSGI's log (${log}) shows the app loaded by the master (pid ${pid}), so workers fork its code` }
        : { on: true, evidence: `uWSGI's log (${log}) shows the app loaded by worker ${pid}` }
    }
  }
  if (complete) return { on: false, evidence: `neither --lazy-apps nor lazy-apps = true is set (${from})` }
  return {
    on: null,
    evidence:
      "the master's command line is hidden by its process title and neither an ini file nor the log says; pass --server-config FILE (the uWSGI ini) to check",
  }
}
