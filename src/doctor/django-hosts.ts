/**
 * Django's Host check, as django/http/request.py does it (HttpRequest.get_host, validate_host),
 * over the literal settings of a settings module. Pure.
 *
 * Django rejects a Host that ALLOWED_HOSTS does not match with 400 Bad Request, whenever something
 * calls request.get_host(): CommonMiddleware does on every request. With DEBUG = True and an empty
 * ALLOWED_HOSTS it allows `.localhost`, `127.0.0.1` and `[::1]`.
 */
import { parseConfigFile, type PyLiteral } from '../servers/shared/python-literals.js'

export interface DjangoHostSettings {
  /** undefined: computed, not a literal */
  debug: boolean | undefined
  /** undefined: computed; [] when the module does not set it (Django's default) */
  allowedHosts: string[] | undefined
  /** whether MIDDLEWARE lists CommonMiddleware (undefined: computed or not set) */
  commonMiddleware: boolean | undefined
}

function strings(v: PyLiteral | undefined): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined
}

export function djangoHostSettings(text: string): DjangoHostSettings {
  const values = parseConfigFile(text).values
  const debug = values.has('DEBUG') ? values.get('DEBUG') : false
  const middleware = strings(values.get('MIDDLEWARE'))
  return {
    debug: typeof debug === 'boolean' ? debug : undefined,
    allowedHosts: values.has('ALLOWED_HOSTS') ? strings(values.get('ALLOWED_HOSTS')) : [],
    commonMiddleware: middleware ? middleware.includes('django.middleware.common.CommonMiddleware') : undefined,
  }
}

/** The patterns Django checks the Host against; undefined when the settings do not say. */
export function effectiveAllowedHosts(s: DjangoHostSettings): string[] | undefined {
  if (s.allowedHosts === undefined) return undefined
  if (s.allowedHosts.length > 0) return s.allowedHosts
  if (s.debug === undefined) return undefined
  return s.debug ? ['.localhost', '127.0.0.1', '[::1]'] : []
}

/** The domain of a Host header (`example.com:8000` -> `example.com`, `[::1]:80` -> `[::1]`), lowercased, trailing dot dropped. */
export function hostDomain(host: string): string {
  const h = host.toLowerCase()
  const domain = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d*$/, '')
  return domain.endsWith('.') ? domain.slice(0, -1) : domain
}

/** django.utils.http validate_host / is_same_domain. */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const domain = hostDomain(host)
  return allowed.some((raw) => {
    const p = raw.toLowerCase()
    if (p === '*') return true
    if (p.startsWith('.')) return domain.endsWith(p) || domain === p.slice(1)
    return domain === p
  })
}
