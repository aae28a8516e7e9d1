/** What would make a rolling restart of a Uvicorn supervisor unsafe or blind (for doctor and the warnings at start). */
import { isAbsolute } from 'node:path'
import { findReleaseRoot, isWithin, layoutOf, type ReleaseLayout } from '../../release/layout.js'
import { procInfo, readCwd } from '../../proc/procfs.js'
import { appSourceFile } from '../shared/python-module.js'
import { readTextOrNull, realpathOrNull } from '../shared/quiet-fs.js'
import type { Hazard, HazardContext, Target } from '../types.js'
import { appSpec } from './app-spec.js'
import type { UvicornArgs } from './args.js'
import { uvicornArgsOf } from './processes.js'

/** The module that defines the app does not wrap it with notify_ready: new workers would send nothing. */
function hookHazard(target: Target): Hazard | null {
  const app = appSpec(target)
  const file = app ? appSourceFile(app, readCwd(target.masterPid) ?? '/') : null
  const text = file ? readTextOrNull(file) : null
  if (text === null || /notify_ready/.test(text)) return null
  return {
    id: 'hook-not-configured',
    severity: 'warning',
    message: `${file}, which defines the app of ${target.description}, does not call notify_ready: unless the app is wrapped elsewhere, new workers send no readiness datagram and every step would time out`,
    fix: `add \`from rolling_restart_hook.asgi import notify_ready; app = notify_ready(app)\` as the last line of ${file} and restart the supervisor once`,
  }
}

/** Without --timeout-graceful-shutdown, Uvicorn waits for every connection: one WebSocket keeps an old worker running. */
function unboundedShutdown(target: Target, args: UvicornArgs): Hazard | null {
  if (args.command !== 'uvicorn' || args.gracefulShutdown !== null) return null
  return {
    id: 'unbounded-shutdown',
    severity: 'warning',
    message:
      `${target.description} runs without --timeout-graceful-shutdown: a stopped worker waits for every open request, WebSocket and stream to end, ` +
      'so a long-lived connection keeps it running past --drain-timeout and the roll stops there',
    fix: 'start Uvicorn with --timeout-graceful-shutdown 30 (or any bound shorter than --drain-timeout)',
  }
}

/** Spawned workers start in the supervisor's real working directory: inside releases/, they keep loading that release. */
function staleCwd(target: Target, args: UvicornArgs, ctx?: HazardContext): Hazard | null {
  const cwd = readCwd(target.masterPid)
  if (!cwd || args.command !== 'uvicorn') return null
  const layout: ReleaseLayout | null = ctx?.releaseRoot ? layoutOf(ctx.releaseRoot) : findReleaseRoot(cwd)
  if (!layout) return null
  if (args.appDir !== null && isAbsolute(args.appDir) && isWithin(args.appDir, layout.current)) return null
  const releases = realpathOrNull(layout.releases) ?? layout.releases
  if (!isWithin(cwd, releases)) return null
  return {
    id: 'stale-cwd',
    severity: 'error',
    message:
      `${target.description} runs in ${cwd}, a release directory, and imports the app from --app-dir ${args.appDir ?? "'.'"}: ` +
      'its workers are spawned there, so after the next deploy restarted workers keep loading this release',
    fix: `start Uvicorn with --app-dir ${layout.current} (the symlink path), then restart the supervisor once`,
  }
}

export function hazards(target: Target, ctx?: HazardContext): Hazard[] {
  const p = procInfo(target.masterPid)
  const args = p ? uvicornArgsOf(p) : null
  const out = [hookHazard(target)]
  if (args) out.push(unboundedShutdown(target, args), staleCwd(target, args, ctx))
  return out.filter((h): h is Hazard => h !== null)
}
