/**
 * Before a routing or mode file is replaced: its directory must exist, and only one switch may
 * replace it at a time (a lock beside its history).
 */
import { statSync, type Stats } from 'node:fs'
import { basename, dirname } from 'node:path'
import { RefusedError, UsageError } from '../errors.js'
import { acquireLock, lockPath, type Lock } from '../state/lock.js'
import type { SwitchPlan } from './flags.js'

/** The file's directory must exist already: a typo must not create a directory Apache never reads. */
export function requireDirectory(flag: string, file: string): void {
  const dir = dirname(file)
  let st: Stats | null = null
  try {
    st = statSync(dir)
  } catch {
    st = null
  }
  if (!st || !st.isDirectory()) {
    throw new UsageError(`${flag} ${file}: the directory ${dir} ${st ? 'is not a directory' : 'does not exist'}; give the path Apache is configured to read`)
  }
}

/** The switch lock of `plan.file`, in the directory of its history. Held by another switch: exit 5. */
export async function lockRoutingFile(plan: Pick<SwitchPlan, 'file' | 'historyPath'>): Promise<Lock> {
  const lockDir = dirname(plan.historyPath)
  const key = `${basename(plan.file)}.switch`
  try {
    return await acquireLock(lockDir, key, plan.file)
  } catch (err) {
    if (err instanceof RefusedError) {
      throw new RefusedError(
        `another \`rolling-restart switch\` is replacing ${plan.file} right now (lock ${lockPath(lockDir, key)}): wait for it to finish and run this again`,
        'locked',
      )
    }
    throw err
  }
}
