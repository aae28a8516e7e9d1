/** Why a roll step failed, in Gunicorn's terms: the master exited, no readiness datagram, an old release. */
import { readCwd } from '../../proc/procfs.js'
import type { Target } from '../types.js'
import { oldCodeHazards } from './old-code.js'
import { settingsOf } from './settings-of.js'

export { masterGoneHint } from './master-gone.js'

export function noReadyHint(target: Target): string {
  return (
    `no readiness datagram arrived from a new worker of ${target.description}. Check that the Gunicorn config has ` +
    "`from rolling_restart_hook.gunicorn import post_worker_init`, that the hook is importable (PYTHONPATH or " +
    '`pip install ./python-hooks`), that ROLLING_RESTART_NOTIFY in the server environment matches --notify, and ' +
    "Gunicorn's error log for a worker that hangs while importing the app"
  )
}

export function wrongReleaseHint(target: Target): string {
  const settings = settingsOf(target)
  const known = oldCodeHazards(target, settings)
  if (known.length > 0) return known.map((h) => `${h.message}. Fix: ${h.fix}`).join('; and ')
  const hints = [
    'with preload_app (--preload) the master loaded the app once and every new worker forks that old code: restart the master instead, or turn preload off',
  ]
  const cwd = readCwd(target.masterPid)
  if (cwd) {
    hints.push(
      `the master's working directory is ${cwd}; if the app lives behind a 'current' symlink and Gunicorn's chdir is the real release path, every new worker imports that old release: set chdir to the symlink path (e.g. --chdir /srv/app/current) and restart the master once`,
    )
  }
  if (settings?.blind.length) hints.push(`(not checked: ${settings.blind.join('; ')})`)
  return hints.join('; or ')
}
