/**
 * The release layout a deploy works on:
 *
 *   ROOT/releases/NAME     one directory per release, never changed once deployed
 *   ROOT/current           a symlink to releases/NAME: what the server loads
 *
 * `current` is only ever replaced by rename(2): a new symlink is made under a temporary name in the
 * same directory and renamed over it, so any process resolving `current` sees the old target or
 * the new one, never a missing link.
 */
import { lstatSync, readdirSync, readlinkSync, realpathSync, statSync, symlinkSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path'
import { UsageError } from '../errors.js'
import { replaceByRename } from '../fs/atomic-write.js'

export interface ReleaseLayout {
  root: string
  releases: string
  current: string
}

export function layoutOf(root: string): ReleaseLayout {
  const r = resolve(root)
  return { root: r, releases: join(r, 'releases'), current: join(r, 'current') }
}

/** A release name is one directory entry: no slash, not `.` or `..`, no control characters. */
export function validateReleaseName(flag: string, name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || /[\0-\x1f]/.test(name)) {
    throw new UsageError(`${flag} ${JSON.stringify(name)} is not a release name: give the name of a directory under ROOT/releases/ (e.g. ${flag} 2026-05-09)`)
  }
  return name
}

export function releaseDir(layout: ReleaseLayout, name: string): string {
  return join(layout.releases, name)
}

/** The --root directory must exist and hold releases/; a named release must be a directory in it. */
export function checkLayout(layout: ReleaseLayout): void {
  if (!isDirectory(layout.root)) {
    throw new UsageError(`--root ${layout.root}: no such directory. Give the directory that holds releases/ and the current symlink`)
  }
  if (!isDirectory(layout.releases)) {
    throw new UsageError(`--root ${layout.root} has no releases/ directory: put each release in ${layout.releases}/NAME`)
  }
}

export function checkRelease(layout: ReleaseLayout, name: string): void {
  const dir = releaseDir(layout, name)
  if (!isDirectory(dir)) {
    const known = listReleases(layout).map((r) => r.name)
    throw new UsageError(
      `--release ${name}: ${dir} is not a directory. Upload the release there first` +
        (known.length ? ` (releases present: ${known.slice(-8).join(', ')})` : ''),
    )
  }
}

export interface CurrentLink {
  /** the link's text, e.g. `releases/A` */
  target: string
  /** the release it names (its last path component when it points into releases/), or null */
  release: string | null
  /** the link resolved, or null when it dangles */
  real: string | null
}

/** `current`, or null when there is none yet. A `current` that is not a symlink is refused. */
export function readCurrent(layout: ReleaseLayout): CurrentLink | null {
  let st
  try {
    st = lstatSync(layout.current)
  } catch {
    return null
  }
  if (!st.isSymbolicLink()) {
    throw new UsageError(
      `${layout.current} is a ${st.isDirectory() ? 'directory' : 'file'}, not a symlink: move it to ${layout.releases}/NAME and make current a symlink to it (ln -s releases/NAME ${layout.current})`,
    )
  }
  const target = readlinkSync(layout.current)
  const absolute = normalize(isAbsolute(target) ? target : join(layout.root, target))
  const release = dirname(absolute) === layout.releases ? basename(absolute) : null
  let real: string | null = null
  try {
    real = realpathSync(layout.current)
  } catch {
    real = null
  }
  return { target, release, real }
}

/**
 * Point `link` at `target` atomically: a new symlink at a temporary name in the same directory,
 * then rename(2) over `link`, then fsync the directory so the change survives a crash.
 */
export function swapSymlink(link: string, target: string): void {
  replaceByRename(link, (tmp) => symlinkSync(target, tmp))
}

/** Point `current` at releases/NAME (a relative link, so the root can be moved or mounted elsewhere). */
export function pointCurrentAt(layout: ReleaseLayout, name: string): void {
  swapSymlink(layout.current, join('releases', name))
}

export interface ReleaseEntry {
  name: string
  /** the directory's modification time, ms */
  mtimeMs: number
}

export function listReleases(layout: ReleaseLayout): ReleaseEntry[] {
  let names: string[]
  try {
    names = readdirSync(layout.releases)
  } catch {
    return []
  }
  const out: ReleaseEntry[] = []
  for (const name of names) {
    if (name.startsWith('.')) continue
    const path = join(layout.releases, name)
    try {
      const st = statSync(path)
      if (st.isDirectory()) out.push({ name, mtimeMs: st.mtimeMs })
    } catch {
      // a dangling link: not a release
    }
  }
  return out.sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name))
}

/** Is `path` the directory `dir` or inside it (lexically, after normalising)? */
export function isWithin(path: string, dir: string): boolean {
  const p = normalize(path)
  const d = normalize(dir).replace(/\/+$/, '')
  return p === d || p.startsWith(d + sep)
}

/**
 * Map a path that goes through `from` (e.g. ROOT/current/src) onto `to` (ROOT/releases/B/src).
 * Paths elsewhere are returned unchanged.
 */
export function rebase(path: string, from: string, to: string): string {
  if (!isWithin(path, from)) return path
  const rest = normalize(path).slice(normalize(from).replace(/\/+$/, '').length)
  return normalize(to + rest)
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * The release root a directory belongs to, by the layout's shape: ROOT/releases/NAME[/...] with a
 * ROOT/current symlink next to releases/. null when `path` is not inside such a layout.
 */
export function findReleaseRoot(path: string): ReleaseLayout | null {
  let real: string
  try {
    real = realpathSync(path)
  } catch {
    return null
  }
  const m = /^(.*)\/releases\/[^/]+(?:\/.*)?$/.exec(real)
  if (!m) return null
  const layout = layoutOf(m[1] || '/')
  try {
    return lstatSync(layout.current).isSymbolicLink() ? layout : null
  } catch {
    return null
  }
}

export type ImportVerdict =
  /** the server imports through `current`: restarted workers load whatever it points at */
  | 'through-current'
  /** it imports from a release directory that is no longer `current`: restarted workers load old code */
  | 'stale'
  /** it imports from the live release's real directory: fine now, stale after the next deploy */
  | 'pinned'
  /** `current` is on the path, but behind the directory the server was started in: stale if that was a release directory */
  | 'start-dir-decides'
  /** the import directory is unknown and the master's working directory is not the current release */
  | 'unknown-differs'
  /** the import directory is unknown, or outside the layout */
  | 'unknown'

const START_DIR = '\0start'

/** `p` goes through the `current` symlink: ROOT/current[/...], also when ROOT is spelled through other symlinks. */
export function throughCurrent(p: string, current: string, realpath: (p: string) => string | null): boolean {
  if (isWithin(p, current)) return true
  const parts = normalize(p).split('/')
  const rootReal = realpath(dirname(current))
  for (let i = 1; i < parts.length; i++) {
    if (parts[i] === basename(current) && rootReal !== null && realpath(parts.slice(0, i).join('/') || '/') === rootReal) return true
  }
  return false
}

/**
 * Gunicorn 20.1's sys.path, front first, as far as it matters here (gunicorn/app/base.py):
 * Application.load_config() calls chdir() twice, first with the default chdir (the start directory:
 * $PWD when it named the same directory, else the real path), then with the configured one; each
 * inserts its directory at sys.path[0] *only if it is not on sys.path yet*, and PYTHONPATH entries
 * already are. Application.run() then does the same for each `pythonpath` entry. So with
 * PYTHONPATH naming ROOT/current and Gunicorn started inside ROOT/releases/A, releases/A stays in
 * front of current (checked on this machine: the restarted worker loaded A).
 *
 * `startDir` null: not known (then it is never a path through `current`: that needs $PWD).
 */
export function gunicornImportOrder(o: { chdir: string; pythonpath: readonly string[]; envPythonpath: readonly string[]; startDir: string | null }): string[] {
  const sys = [...o.envPythonpath]
  const insert = (p: string) => {
    if (!sys.includes(p)) sys.unshift(p)
  }
  insert(o.startDir ?? START_DIR)
  insert(o.chdir)
  for (const p of o.pythonpath) insert(p)
  return sys
}

/**
 * Does a server that searches `order` (front first) pick up a `current` swap? The first entry in
 * the release layout decides. `cwd` is the master's real working directory, `currentReal` where
 * `current` resolves now; real paths in `releases`. Pure.
 */
export function importVerdict(input: {
  current: string
  releases: string
  currentReal: string | null
  cwd: string | null
  /** the import path front first (gunicornImportOrder), or null when the chdir is unknown */
  order: readonly string[] | null
  realpath: (p: string) => string | null
}): { verdict: ImportVerdict; entry: string | null } {
  const { current, releases, currentReal, cwd, order, realpath } = input
  if (order === null) {
    return { verdict: cwd !== null && currentReal !== null && !isWithin(cwd, currentReal) ? 'unknown-differs' : 'unknown', entry: null }
  }
  const classify = (p: string): ImportVerdict | null => {
    if (throughCurrent(p, current, realpath)) return 'through-current'
    const real = realpath(p)
    if (real === null || !isWithin(real, releases)) return null // outside the layout
    return currentReal !== null && isWithin(real, currentReal) ? 'pinned' : 'stale'
  }
  let afterStart = false
  for (const p of order) {
    if (p === START_DIR) {
      afterStart = true
      continue
    }
    const v = classify(p)
    if (v === null) continue
    // behind the unknown start directory, only a real release path decides for sure
    if (afterStart && v === 'through-current') return { verdict: 'start-dir-decides', entry: p }
    return { verdict: v, entry: p }
  }
  return { verdict: 'unknown', entry: null }
}
