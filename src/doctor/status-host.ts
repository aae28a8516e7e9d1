/**
 * doctor: will the status probe's Host header pass the app's Host check? The probe sends
 * `Host: localhost` unless ROLLING_RESTART_STATUS_HOST says otherwise; a Django project with
 * DEBUG = False (or an ALLOWED_HOSTS without localhost) answers it 400, so every new worker reports
 * READY=0 and the preflight fails. Known only where the settings module is a literal file the
 * server's import path reaches, and the server's environment (or raw_env) can be read.
 */
import { readCwd, readEnviron } from '../proc/procfs.js'
import { appSourceFile, importPath, moduleFile } from '../servers/shared/python-module.js'
import { readTextOrNull } from '../servers/shared/quiet-fs.js'
import type { Resolved } from '../servers/resolve.js'
import type { Hazard } from '../servers/types.js'
import { djangoHostSettings, effectiveAllowedHosts, hostAllowed, hostDomain } from './django-hosts.js'

const SETDEFAULT = /setdefault\(\s*['"]DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]/

export function statusHostHazards({ adapter, target }: Resolved): Hazard[] {
  const app = adapter.appSpec?.(target) ?? null
  if (!app) return []
  const raw = readEnviron(target.masterPid)
  const env = raw && Object.keys(raw).length > 0 ? raw : null
  const cwd = readCwd(target.masterPid) ?? '/'
  const envPath = (env?.PYTHONPATH ?? '').split(':').filter(Boolean)
  const vars = { ...(env ?? {}), ...(app.env ?? {}) }
  const appFile = appSourceFile(app, cwd, envPath)
  const module = vars.DJANGO_SETTINGS_MODULE ?? SETDEFAULT.exec((appFile && readTextOrNull(appFile)) ?? '')?.[1]
  const file = module ? moduleFile(module, importPath(app, cwd, envPath)) : null
  const text = file ? readTextOrNull(file) : null
  if (!module || !file || text === null) return []
  const settings = djangoHostSettings(text)
  const allowed = effectiveAllowedHosts(settings)
  const host = vars.ROLLING_RESTART_STATUS_HOST ?? 'localhost'
  if (allowed === undefined || hostAllowed(host, allowed)) return []
  const set = vars.ROLLING_RESTART_STATUS_HOST !== undefined
  const suggestion = allowed.find((h) => h !== '*' && !h.startsWith('.')) ?? allowed[0]?.replace(/^\./, '') ?? 'localhost'
  const certain = (set || env !== null) && settings.commonMiddleware === true
  return [
    {
      id: 'status-host-rejected',
      severity: certain ? 'error' : 'warning',
      message:
        `the status probe sends Host ${hostDomain(host)}${set ? ' (ROLLING_RESTART_STATUS_HOST)' : ''}, which the Django settings ${module} (${file}) reject: ` +
        `DEBUG = ${settings.debug === undefined ? '?' : settings.debug ? 'True' : 'False'}, ALLOWED_HOSTS = ${JSON.stringify(settings.allowedHosts)}. ` +
        'Every new worker would report READY=0 (400 Bad Request) and the preflight would fail' +
        (env === null && !set ? ` (${target.description}'s environment is unreadable, so a ROLLING_RESTART_STATUS_HOST set there could not be checked)` : ''),
      fix:
        `set ROLLING_RESTART_STATUS_HOST=${suggestion} (a host in ALLOWED_HOSTS) in the environment of ${target.description}` +
        `${target.server === 'gunicorn' ? " (or raw_env in its config)" : ''} and restart it once; or add 'localhost' to ALLOWED_HOSTS`,
    },
  ]
}
