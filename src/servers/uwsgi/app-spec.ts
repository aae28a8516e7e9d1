/** For the preflight: wsgi-file or module, chdir, pythonpath, env and home from the uWSGI options. */
import { envFromAssignments } from '../shared/env-assignments.js'
import { interpreterFor } from '../shared/interpreter.js'
import type { AppSpec, Target } from '../types.js'
import { factsOf, scriptOf } from './master-facts.js'
import { lastValue } from './options.js'

export function appSpec(target: Target): AppSpec | null {
  const facts = factsOf(target)
  const o = facts.options
  const file = scriptOf(o)
  const module = lastValue(o, 'module') ?? lastValue(o, 'wsgi')
  const callable = lastValue(o, 'callable')
  let spec: string | null = null
  if (file && (callable === null || callable === 'application')) spec = file
  else if (module) spec = module.includes(':') || callable === null ? module : `${module}:${callable}`
  if (spec === null) {
    return {
      spec: null,
      why: file
        ? `the uWSGI options name wsgi-file ${file} with callable = ${callable}, which the preflight cannot load by path`
        : facts.complete
          ? 'the uWSGI options name neither a wsgi-file nor a module'
          : "the uWSGI master's command line is hidden by its process title: pass --server-config FILE (its ini file) or --preflight-app",
    }
  }
  const home = lastValue(o, 'home') ?? lastValue(o, 'virtualenv') ?? lastValue(o, 'venv') ?? lastValue(o, 'pyhome')
  return {
    spec,
    chdir: lastValue(o, 'chdir') ?? undefined,
    pythonpath: ['pythonpath', 'python-path', 'pp'].flatMap((k) => o.values.get(k) ?? []),
    env: envFromAssignments(o.values.get('env') ?? []),
    python: interpreterFor(home, target.masterPid),
    from: `uWSGI options (${o.sources.join(', ')})`,
  }
}
