/** What would make a rolling restart of a uWSGI master unsafe (for doctor and the warnings at start). */
import { scriptHasHook } from '../shared/script-hook.js'
import type { Hazard, Target } from '../types.js'
import { HOOK_LINE, factsOf, scriptOf } from './master-facts.js'
import { lastValue } from './options.js'

/** Options that make uWSGI restart workers (or itself) on its own, racing a rolling restart. */
const RELOADERS = ['touch-reload', 'touch-chain-reload', 'touch-workers-reload', 'py-autoreload', 'fs-reload', 'fs-brutal-reload', 'touch-logreopen-reload']

export function hazards(target: Target): Hazard[] {
  const facts = factsOf(target)
  const out: Hazard[] = []
  if (facts.lazy.on === false) {
    out.push({
      id: 'lazy-apps-off',
      severity: 'error',
      message: `lazy-apps is off (${facts.lazy.evidence}): restarted workers fork the code the master loaded when it started, never the new release`,
      fix: 'set lazy-apps = true (--lazy-apps) and restart uWSGI once; until then a rolling restart only recycles workers',
    })
  } else if (facts.lazy.on === null) {
    out.push({
      id: 'lazy-apps-unknown',
      severity: 'warning',
      message: `could not tell whether lazy-apps is on: ${facts.lazy.evidence}`,
      fix: 'make sure the uWSGI config has lazy-apps = true, or restarted workers run the old code',
    })
  }
  if (target.meta.procname === null) {
    out.push({
      id: 'no-procname',
      severity: 'warning',
      message: `${target.description} has no procname-master: --group cannot find it by name, and its workers' datagrams carry no GROUP`,
      fix: 'set procname-master = NAME in the uWSGI config (the master is then titled NAME), or keep using --pidfile / --master',
    })
  }
  const reloaders = RELOADERS.filter((r) => lastValue(facts.options, r) !== null)
  if (reloaders.length) {
    out.push({
      id: 'self-reload',
      severity: 'warning',
      message: `uWSGI restarts workers on its own (${reloaders.join(', ')}): such a reload does not wait for readiness and races with a rolling restart`,
      fix: `drop ${reloaders.join(', ')} and let rolling-restart replace the workers`,
    })
  }
  const script = scriptOf(facts.options)
  if (script && scriptHasHook(script) === false) {
    out.push({
      id: 'hook-missing',
      severity: 'error',
      message: `${script} (the WSGI file) has no notify_ready line: new workers never report ready`,
      fix: `end it with \`${HOOK_LINE}\``,
    })
  }
  return out
}
