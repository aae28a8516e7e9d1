/** For the preflight: the group's preloaded script, its python-path, python-home and home. */
import { interpreterFor } from '../shared/interpreter.js'
import type { AppSpec, Target } from '../types.js'
import { where } from './apache-config.js'
import { daemonGroupFacts } from './group-facts.js'

export function appSpec(target: Target): AppSpec | null {
  const facts = daemonGroupFacts(target)
  if (!facts.cfg || facts.cfg.files.length === 0) {
    return { spec: null, why: `cannot read Apache's configuration (${facts.cfg?.mainFile ?? 'unknown'}) to find the WSGI script of group '${target.group}'` }
  }
  const script = facts.preloaded[0] ?? facts.scripts[0]
  if (!script) return { spec: null, why: `no WSGIScriptAlias ... process-group=${target.group} or WSGIImportScript found in ${facts.cfg.mainFile}` }
  const def = facts.cfg.daemons.find((d) => d.name === target.group)
  return {
    spec: script.path,
    chdir: def?.options.home,
    pythonpath: def?.options['python-path']?.split(':').filter(Boolean),
    python: interpreterFor(def?.options['python-home'], target.masterPid),
    from: `${script.directive} at ${where(script)}`,
  }
}
