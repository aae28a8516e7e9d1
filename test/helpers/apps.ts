// Application directories for the servers under test: a fixture from test/fixtures/apps copied as
// app.py (plus the fixtures' shared _common.py), optionally a REVISION file. swapApp() replaces
// app.py atomically under a running server, the way a deploy drops in a new release.
import { chmodSync, copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fixturesDir } from './paths.js'
import { tempDir, type Teardown } from './tmp.js'

/** A fixture name ('good' or 'good.py'), or inline Python source for a one-off app. */
export type Fixture = string | { source: string }

export interface AppOptions {
  /** Written to REVISION (first line is what the hook reports as RELEASE). */
  revision?: string
}

/** Absolute path of a fixture in test/fixtures/apps. */
export const fixturePath = (name: string): string =>
  join(fixturesDir, name.endsWith('.py') ? name : `${name}.py`)

export const fixtureExists = (name: string): boolean => existsSync(fixturePath(name))

const fixtureSource = (fixture: Fixture): string => {
  if (typeof fixture !== 'string') return fixture.source
  const path = fixturePath(fixture)
  if (!existsSync(path)) throw new Error(`no fixture ${path}: see test/fixtures/apps/ for the available apps`)
  return readFileSync(path, 'utf8')
}

/** Write to a temp name then rename, so a reader never sees a half-written file. */
const writeAtomic = (path: string, content: string): void => {
  const temp = `${path}.tmp-${process.pid}`
  writeFileSync(temp, content, { mode: 0o644 })
  chmodSync(temp, 0o644)
  renameSync(temp, path)
}

/** A temp dir (0755, removed in teardown) holding app.py, _common.py and REVISION if given. */
export const makeAppDir = (t: Teardown, fixture: Fixture, options: AppOptions = {}): string => {
  const dir = tempDir(t, 'app')
  const common = join(fixturesDir, '_common.py')
  if (existsSync(common)) {
    copyFileSync(common, join(dir, '_common.py'))
    chmodSync(join(dir, '_common.py'), 0o644)
  }
  swapApp(dir, fixture, options)
  return dir
}

/** Replaces app.py (and REVISION, if given) in `dir` atomically. */
export const swapApp = (dir: string, fixture: Fixture, { revision }: AppOptions = {}): void => {
  writeAtomic(join(dir, 'app.py'), fixtureSource(fixture))
  if (revision !== undefined) writeAtomic(join(dir, 'REVISION'), `${revision}\n`)
}
