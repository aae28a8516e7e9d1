/**
 * The two reasons a restarted Gunicorn worker keeps running old code: preload_app (every worker is
 * a fork of the master's import) and an import path that does not go through the `current` symlink.
 */
import { findReleaseRoot, gunicornImportOrder, importVerdict, layoutOf, throughCurrent, type ReleaseLayout } from '../../release/layout.js'
import { readCwd } from '../../proc/procfs.js'
import { realpathOrNull } from '../shared/quiet-fs.js'
import type { Hazard, HazardContext, Target } from '../types.js'
import { source } from './settings-of.js'
import type { GunicornSettings } from './settings.js'

/** The release layout the master belongs to: --root when given, else found from its directories. */
export function layoutFor(target: Target, settings: GunicornSettings | null, ctx?: HazardContext): ReleaseLayout | null {
  if (ctx?.releaseRoot) return layoutOf(realpathOrNull(ctx.releaseRoot) ?? ctx.releaseRoot)
  const cwd = readCwd(target.masterPid)
  for (const p of [settings?.chdir.value, cwd]) {
    const found = p ? findReleaseRoot(p) : null
    if (found) return found
  }
  return null
}

function preloadHazard(target: Target, settings: GunicornSettings): Hazard {
  return {
    id: 'preload-app',
    severity: 'error',
    message:
      `${target.description} runs with preload_app (from the ${source(settings.preload, settings)}): the master imported the app once ` +
      'and every restarted worker is a fork of it, so a rolling restart never loads a new release',
    fix: 'set preload_app = False (drop --preload) and restart the master once; with preload on, new code needs a master restart (USR2, then QUIT to the old master)',
  }
}

/** Whether the master imports the app through `current`, by Gunicorn's sys.path order. */
function staleCwdHazard(target: Target, settings: GunicornSettings | null, layout: ReleaseLayout): Hazard | null {
  const cwd = readCwd(target.masterPid)
  const currentReal = realpathOrNull(layout.current)
  const chdir = settings?.chdir.value ?? null
  // Gunicorn's start directory, when it can be told: a $PWD through `current` (see gunicornImportOrder)
  const pwd = settings?.pwd ?? null
  const startDir = pwd !== null && throughCurrent(pwd, layout.current, realpathOrNull) ? pwd : null
  const order =
    chdir === null ? null : gunicornImportOrder({ chdir, pythonpath: settings?.pythonpath.value ?? [], envPythonpath: settings?.envPythonpath ?? [], startDir })
  const { verdict, entry } = importVerdict({
    current: layout.current,
    releases: realpathOrNull(layout.releases) ?? layout.releases,
    currentReal,
    cwd,
    order,
    realpath: realpathOrNull,
  })
  const fix =
    `make Gunicorn import through the symlink: chdir = '${layout.current}' in its config (or --chdir ${layout.current}), ` +
    `without ${layout.current} on PYTHONPATH, then restart the master once (a rolling restart cannot change the import path the master already built)`
  const from = entry === chdir && settings ? `its chdir ${entry} (from the ${source(settings.chdir, settings)})` : `${entry} on its import path`
  if (verdict === 'stale') {
    return {
      id: 'stale-cwd',
      severity: 'error',
      message: `${target.description} imports the app from ${from}, a release directory, while ${layout.current} points to ${currentReal}: restarted workers load the old release, not through ${layout.current}`,
      fix,
    }
  }
  if (verdict === 'pinned') {
    return {
      id: 'stale-cwd',
      severity: 'error',
      message: `${target.description} imports the app from ${from}, the real directory of the live release, not through ${layout.current}: after the next deploy, restarted workers would keep loading this release`,
      fix,
    }
  }
  if (verdict === 'start-dir-decides') {
    return {
      id: 'stale-cwd',
      severity: 'warning',
      message:
        `${target.description} has ${entry} on PYTHONPATH, so Gunicorn does not move its chdir to the front of sys.path: the directory it was started in comes first. ` +
        'If that was a release directory (a service started in releases/NAME), restarted workers keep loading that release',
      fix: `remove ${layout.current} from PYTHONPATH (chdir = '${layout.current}' alone is enough), or start Gunicorn from outside the releases (e.g. in ${layout.root})`,
    }
  }
  if (verdict === 'unknown-differs') {
    return {
      id: 'stale-cwd',
      severity: 'warning',
      message:
        `the working directory of ${target.description} is ${cwd}, but ${layout.current} points to ${currentReal}. Fine if Gunicorn's chdir is ${layout.current} ` +
        '(restarted workers then import through the symlink); if chdir is the real release path, they load the old release. Its chdir could not be read',
      fix: `check that chdir = '${layout.current}'; pass --server-config FILE so this can be checked`,
    }
  }
  return null
}

/** preload_app and stale working directory, the two reasons a restarted worker keeps old code. */
export function oldCodeHazards(target: Target, settings: GunicornSettings | null, ctx?: HazardContext): Hazard[] {
  const out: Hazard[] = []
  if (settings?.preload.value === true) out.push(preloadHazard(target, settings))
  const layout = layoutFor(target, settings, ctx)
  if (!layout) return out
  const stale = staleCwdHazard(target, settings, layout)
  if (stale) out.push(stale)
  return out
}
