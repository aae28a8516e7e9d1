/** For the preflight: how the Gunicorn master loads its app (spec, chdir, pythonpath, raw_env). */
import type { AppSpec, Target } from '../types.js'
import { settingsOf, source } from './settings-of.js'
import { rawEnvVars } from './settings.js'

export function appSpec(target: Target): AppSpec | null {
  const settings = settingsOf(target)
  if (!settings) return null
  const spec = settings.app.value
  return {
    spec,
    chdir: settings.chdir.value ?? undefined,
    pythonpath: settings.pythonpath.value,
    env: rawEnvVars(settings.rawEnv),
    from: spec !== null ? source(settings.app, settings) : undefined,
    why:
      spec === null
        ? `the app of ${target.description} is not on a visible command line or in a config file as wsgi_app` +
          (settings.blind.length ? ` (${settings.blind.join('; ')})` : '')
        : undefined,
  }
}
