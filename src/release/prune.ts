/**
 * --keep N: after a successful deploy, remove old release directories so that N releases that
 * have been live remain. Never the live release, never the previous one (the rollback target).
 *
 * Only releases the history shows were live at some time are candidates. A directory that never
 * went live (an upload waiting for its deploy, a release whose deploy failed and was rolled back)
 * is left alone: its age says nothing reliable (cp -a and rsync -a keep the source's times), and
 * removing a release someone is about to deploy is worse than keeping one too many.
 */
import { lstatSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { ReleaseEntry, ReleaseLayout } from './layout.js'

export interface PruneInput {
  releases: readonly ReleaseEntry[]
  live: string
  previous: string | null
  keep: number
  /** when each release was last live (ms), from the history */
  lastLive: ReadonlyMap<string, number>
}

/** The names to remove, least recently live first. Pure. */
export function selectPrunable({ releases, live, previous, keep, lastLive }: PruneInput): string[] {
  const kept = new Set([live, ...(previous !== null ? [previous] : [])])
  const candidates = releases
    .filter((r) => lastLive.has(r.name))
    .sort((a, b) => (lastLive.get(b.name) as number) - (lastLive.get(a.name) as number) || b.name.localeCompare(a.name))
  for (const r of candidates) {
    if (kept.size >= keep) break
    kept.add(r.name)
  }
  return candidates
    .filter((r) => !kept.has(r.name))
    .reverse()
    .map((r) => r.name)
}

/** Remove releases/NAME: the directory tree, or only the link when it is a symlink. */
export function removeRelease(layout: ReleaseLayout, name: string): void {
  if (name.includes('/') || name === '.' || name === '..' || name === '') throw new Error(`refusing to remove release ${JSON.stringify(name)}`)
  const path = join(layout.releases, name)
  const st = lstatSync(path)
  rmSync(path, { recursive: !st.isSymbolicLink(), force: true })
}
