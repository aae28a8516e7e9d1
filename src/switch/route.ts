/**
 * Which route is live now and which one a switch writes. Reads the routing file (our own files say
 * what they route to in a form we can read back) and the history; decides nothing else.
 */
import { readFileSync } from 'node:fs'
import { TargetError, UsageError, errnoCode } from '../errors.js'
import { parseDispatchScript, type RouteSpec } from './dispatch-script.js'
import type { SwitchPlan } from './flags.js'
import { previousEntry, type SwitchHistory } from './history.js'
import { parseMapFile } from './map-file.js'
import { statOrNull } from './replace-file.js'

/** What the routing file says now: our own files say it in a form we can read back. */
export function currentRoute(plan: Pick<SwitchPlan, 'mechanism' | 'file' | 'fileFlag'>, history: SwitchHistory | null): RouteSpec | null {
  let text: string | null = null
  if (statOrNull(plan.file, plan.fileFlag)) {
    try {
      text = readFileSync(plan.file, 'utf8')
    } catch (err) {
      throw new TargetError(`${plan.fileFlag} ${plan.file}: cannot read it (${errnoCode(err)})`, 'denied')
    }
  }
  if (text !== null) {
    if (plan.mechanism === 'map') {
      const group = parseMapFile(text)
      if (group) return { to: group, canary: null }
    } else {
      const spec = parseDispatchScript(text)
      if (spec) return spec
    }
    return null // a file we did not write: we do not guess what it routes to
  }
  return history?.entries.at(-1)?.route ?? null
}

/** The route this run writes. */
export function nextRoute(plan: SwitchPlan, live: RouteSpec | null, history: SwitchHistory | null): RouteSpec {
  if (plan.action === 'back') {
    const prev = previousEntry(history)
    if (!prev) {
      const n = history?.entries.length ?? 0
      throw new UsageError(
        `--back: nothing to go back to: ${plan.historyPath} records ${n === 0 ? 'no switch' : 'only one switch'} of ${plan.file}. ` +
          `Name the group instead: --to GROUP`,
      )
    }
    return prev.route
  }
  const to = plan.to as string
  if (!plan.canary) return { to, canary: null }
  if (!live) {
    throw new UsageError(
      `--canary sends a share to ${to} and the rest to the group live now, but ${plan.file} does not say which group that is ` +
        `(${statOrNull(plan.file, plan.fileFlag) ? 'it was not written by rolling-restart' : 'it does not exist yet'}). ` +
        `First switch everything with \`rolling-restart switch --to GROUP --dispatch ${plan.file}\``,
    )
  }
  const stable = live.canary ? live.canary.stable : live.to
  if (stable === to) {
    throw new UsageError(
      `--to ${to} with --canary: ${to} already serves the traffic outside the canary. To send all of it there, drop --canary; ` +
        `to try another group, name that group with --to`,
    )
  }
  return { to, canary: { stable, ...plan.canary } }
}
