/**
 * Finding the source file of the app a server loads, without importing it: the module of an app
 * spec (`mysite.wsgi:application` -> mysite/wsgi.py) searched in the directories the server puts
 * on sys.path, in order, as `import` would (a package's __init__.py, or the module file).
 */
import { existsSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import type { AppSpec } from '../types.js'

/** `a.b:app` and `a.b:create()` -> `a.b`; `a.b` -> `a.b` (Gunicorn's `mysite.wsgi`); a path (`/srv/site.wsgi`) -> null. */
export function specModule(spec: string): string | null {
  const module = spec.split(':', 1)[0] as string
  return /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(module) ? module : null
}

/** The file that defines `module`, looked up in `path` in order; null when none has it. */
export function moduleFile(module: string, path: readonly string[], exists: (p: string) => boolean = existsSync): string | null {
  const parts = module.split('.')
  for (const dir of path) {
    const base = join(dir, ...parts)
    for (const candidate of [`${base}.py`, join(base, '__init__.py')]) if (exists(candidate)) return candidate
  }
  return null
}

/** The directories an app of `app` is imported from: its chdir (or `cwd`), then its pythonpath. */
export function importPath(app: AppSpec, cwd: string, extra: readonly string[] = []): string[] {
  const base = app.chdir ?? cwd
  return [base, ...(app.pythonpath ?? []), ...extra].map((d) => resolve(base, d))
}

/** The source file of the app: the module of its spec found on its import path, else the script the spec names (`site.wsgi`). */
export function appSourceFile(app: AppSpec, cwd: string, extra: readonly string[] = [], exists: (p: string) => boolean = existsSync): string | null {
  if (!app.spec) return null
  const module = specModule(app.spec)
  const found = module !== null ? moduleFile(module, importPath(app, cwd, extra), exists) : null
  if (found) return found
  const script = isAbsolute(app.spec) ? app.spec : resolve(app.chdir ?? cwd, app.spec)
  return /\.(wsgi|py)$/.test(script) && exists(script) ? script : null
}
