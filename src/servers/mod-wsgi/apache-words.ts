/** The words of one Apache directive line: quoting, `key=value` options, ${VAR} and paths relative to ServerRoot. */
import { isAbsolute, join } from 'node:path'

/** Split one directive line into words, honouring "double" and 'single' quotes. */
export function tokenize(line: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i] as string)) i++
    if (i >= line.length) break
    const q = line[i]
    if (q === '"' || q === "'") {
      let word = ''
      i++
      while (i < line.length && line[i] !== q) {
        if (line[i] === '\\' && line[i + 1] === q) i++
        word += line[i]
        i++
      }
      i++
      out.push(word)
    } else {
      let word = ''
      while (i < line.length && !/\s/.test(line[i] as string)) word += line[i++]
      out.push(word)
    }
  }
  return out
}

/** `key=value` words after the positional ones. */
export function keyValues(words: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const w of words) {
    const eq = w.indexOf('=')
    if (eq > 0) out[w.slice(0, eq).toLowerCase()] = w.slice(eq + 1)
  }
  return out
}

/** ${VAR} from Define and the Apache parent's environment; an unknown one stays as it is. */
export function substitute(value: string, vars: Map<string, string>): string {
  return value.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => vars.get(name) ?? whole)
}

/** Resolve a path from the configuration against ServerRoot (piped loggers and syslog stay as they are). */
export function resolveConfigPath(value: string, serverRoot: string): string {
  if (value.startsWith('|') || /^syslog(:|$)/i.test(value) || isAbsolute(value)) return value
  return join(serverRoot, value)
}
