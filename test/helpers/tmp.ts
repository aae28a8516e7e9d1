// Temporary directories that are removed when the test that made them ends.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The one thing the helpers need from a tap Test: a place to register cleanup. */
export interface Teardown {
  teardown(fn: () => unknown): void
}

/**
 * A fresh directory under the system temp dir, mode 0755 so that servers which drop privileges
 * (Apache's www-data) can traverse it. Removed recursively in teardown.
 */
export const tempDir = (t: Teardown, prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `rr-${prefix}-`))
  chmodSync(dir, 0o755)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
