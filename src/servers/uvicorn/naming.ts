/**
 * The name of a Uvicorn supervisor's group, the way the hook names it in GROUP:
 * ROLLING_RESTART_GROUP from the supervisor's environment (its workers inherit it), else the app
 * spec on its command line (`main:app`, `main:create()` with --factory). `fastapi run` is named
 * after its --entrypoint or the app it finds (fastapi-app.ts), else after its PATH argument.
 */
import { readCwd, readEnviron, type ProcInfo } from '../../proc/procfs.js'
import { reportedSpec, type UvicornArgs } from './args.js'
import { fastapiApp } from './fastapi-app.js'

export interface UvicornNaming {
  group: string
  /** for messages: where the name came from */
  from: string
}

export function namingOf(p: ProcInfo, args: UvicornArgs | null): UvicornNaming {
  const fromEnv = readEnviron(p.pid)?.ROLLING_RESTART_GROUP
  if (fromEnv) return { group: fromEnv, from: 'ROLLING_RESTART_GROUP in its environment' }
  if (args?.command === 'uvicorn') {
    const spec = reportedSpec(args)
    if (spec) return { group: spec, from: 'the app spec on its command line' }
  }
  if (args?.command === 'fastapi') {
    const spec = fastapiApp(args, readCwd(p.pid) ?? '/').spec
    if (spec) return { group: spec, from: args.app ? 'its --entrypoint' : 'the app fastapi run finds' }
    if (args.path) return { group: args.path, from: 'the PATH given to fastapi run' }
  }
  return { group: `uvicorn-${p.pid}`, from: 'its pid (set ROLLING_RESTART_GROUP in its environment to name it)' }
}
