/** The files an Include / IncludeOptional names: one file, every file below a directory, or a glob. */
import { readdirSync, statSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'

function globToRegExp(segment: string): RegExp {
  let re = ''
  for (const ch of segment) {
    if (ch === '*') re += '[^/]*'
    else if (ch === '?') re += '[^/]'
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

const hasWildcard = (s: string) => /[*?]/.test(s)

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

function filesUnder(dir: string, depth = 0): string[] {
  if (depth > 8) return []
  let names: string[]
  try {
    names = readdirSync(dir).sort()
  } catch {
    return []
  }
  const out: string[] = []
  for (const n of names) {
    const p = join(dir, n)
    if (isDir(p)) out.push(...filesUnder(p, depth + 1))
    else out.push(p)
  }
  return out
}

/** The files an Include pattern names: a file, a directory (every file below it), or a glob. */
export function expandInclude(pattern: string, serverRoot: string): string[] {
  const abs = isAbsolute(pattern) ? pattern : join(serverRoot, pattern)
  if (!hasWildcard(abs)) {
    if (isDir(abs)) return filesUnder(abs)
    return isFile(abs) ? [abs] : []
  }
  let bases = ['/']
  for (const seg of abs.split('/').filter(Boolean)) {
    const next: string[] = []
    for (const base of bases) {
      if (!hasWildcard(seg)) {
        next.push(join(base, seg))
        continue
      }
      const re = globToRegExp(seg)
      let names: string[] = []
      try {
        names = readdirSync(base).sort()
      } catch {
        continue
      }
      for (const n of names) if (re.test(n) && (!n.startsWith('.') || seg.startsWith('.'))) next.push(join(base, n))
    }
    bases = next
  }
  return bases.filter(isFile)
}
