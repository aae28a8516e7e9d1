/** What would make a rolling restart of a Gunicorn master unsafe or blind (for doctor and the warnings at start). */
import { procInfo } from '../../proc/procfs.js'
import { readTextOrNull } from '../shared/quiet-fs.js'
import type { Hazard, HazardContext, Target } from '../types.js'
import { layoutFor, oldCodeHazards } from './old-code.js'
import { installHint } from '../shared/venv.js'
import { MASTER_TITLE } from './processes.js'
import { customHookHazard, stackHazards } from './stack-hazards.js'
import { drainCutHazard } from './drain-on-term.js'
import { settingsOf } from './settings-of.js'
import type { GunicornSettings } from './settings.js'

/** Settings that could not be read, so were not checked. */
function uncheckedHazard(target: Target, settings: GunicornSettings, ctx?: HazardContext): Hazard | null {
  // PYTHONPATH matters only for a release layout (it decides whether chdir goes first on sys.path)
  const layout = layoutFor(target, settings, ctx)
  const unchecked = [
    settings.preload.from === 'unknown' ? 'preload_app' : '',
    settings.chdir.from === 'unknown' ? 'chdir' : '',
    layout && settings.envPythonpath === null ? 'PYTHONPATH' : '',
  ].filter(Boolean)
  if (!unchecked.length) return null
  const fixes = [
    unchecked.some((u) => u !== 'PYTHONPATH') ? 'pass --server-config FILE (the file given to gunicorn -c)' : '',
    "run the server with SPT_NOENV=1 so its environment (PYTHONPATH, GUNICORN_CMD_ARGS) stays readable",
  ].filter(Boolean)
  return {
    id: 'config-unknown',
    severity: 'warning',
    message: `could not read ${unchecked.join(', ')} of ${target.description}, so ${unchecked.length > 1 ? 'they were' : 'it was'} not checked: ${settings.blind.join('; ')}`,
    fix: fixes.join(', or '),
  }
}

/** A config file that never mentions the hook, or whose own post_worker_init never calls it: new workers would send no datagram. */
function hookHazard(configFile: string): Hazard | null {
  const text = readTextOrNull(configFile) ?? ''
  if (!text) return null
  const custom = customHookHazard(configFile, text)
  if (custom || text.includes('rolling_restart_hook')) return custom
  return {
    id: 'hook-not-configured',
    severity: 'warning',
    message: `the Gunicorn config ${configFile} does not mention rolling_restart_hook: unless post_worker_init comes from elsewhere, new workers send no readiness datagram and every step would time out`,
    fix: `add \`from rolling_restart_hook.gunicorn import post_worker_init, worker_exit\` to ${configFile} and restart the master once`,
  }
}

export function hazards(target: Target, ctx?: HazardContext): Hazard[] {
  const out: Hazard[] = []
  const p = procInfo(target.masterPid)
  if (!p) return out
  if (!MASTER_TITLE.test(p.cmdline)) {
    out.push({
      id: 'no-setproctitle',
      severity: 'warning',
      message:
        `${target.description} has no process title (setproctitle is not installed in its Python): ps shows no group names, and --group finds it ` +
        'only while its command line and config file say its proc_name',
      fix: `install setproctitle: ${installHint(target.masterPid, 'setproctitle', 'python3-setproctitle')}; then restart the master once. Or use --pidfile / --master`,
    })
  }
  const settings = settingsOf(target)
  out.push(...oldCodeHazards(target, settings, ctx))
  if (settings) out.push(...stackHazards(target, settings))
  // a run decides this itself (run/replace-via.ts) and says so: doctor's alone
  const cut = settings && !ctx?.forRun ? drainCutHazard(target, settings) : null
  if (cut) out.push(cut)
  const unchecked = settings ? uncheckedHazard(target, settings, ctx) : null
  if (unchecked) out.push(unchecked)
  const hook = settings?.configFile ? hookHazard(settings.configFile) : null
  if (hook) out.push(hook)
  return out
}
