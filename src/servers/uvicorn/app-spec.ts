/**
 * For the preflight: how a Uvicorn supervisor's workers load the app. Each spawned worker starts in
 * the supervisor's working directory with the supervisor's sys.path, which has --app-dir (default
 * `.`) first, and imports the app spec from the command line.
 */
import { procInfo, readCwd } from '../../proc/procfs.js'
import type { AppSpec, Target } from '../types.js'
import { reportedSpec } from './args.js'
import { fastapiApp } from './fastapi-app.js'
import { uvicornArgsOf } from './processes.js'
import { resolve } from 'node:path'

export function appSpec(target: Target): AppSpec | null {
  const p = procInfo(target.masterPid)
  if (!p) return null
  const args = uvicornArgsOf(p)
  const cwd = readCwd(target.masterPid) ?? undefined
  if (!args) {
    return { spec: null, chdir: cwd, why: `${target.description} does not run the uvicorn or fastapi command (uvicorn.run() from a script?), so its app spec is unknown` }
  }
  if (args.command === 'fastapi') {
    const found = fastapiApp(args, cwd ?? '/')
    return { spec: found.spec, chdir: cwd, pythonpath: found.pythonpath, from: 'the fastapi command line', why: found.why }
  }
  const spec = reportedSpec(args)
  return {
    spec,
    chdir: cwd,
    pythonpath: args.appDir !== null ? [resolve(cwd ?? '/', args.appDir)] : [],
    from: spec !== null ? 'the uvicorn command line' : undefined,
    why: spec === null ? `the uvicorn command line of ${target.description} names no app (nor does UVICORN_APP)` : undefined,
  }
}
