/**
 * The process table as ps(1) (through ps-tree) and pidusage see it, beside /proc (procfs.ts).
 * Both packages are loaded only when asked for: a command that never needs them does not pay
 * their start-up.
 */
import type psTreeType from 'ps-tree'
import { procInfo, type ProcInfo } from './procfs.js'

/** Direct children of `ppid` as ps(1) sees them (through ps-tree), with their command lines from /proc. */
export async function childrenViaPs(ppid: number): Promise<ProcInfo[]> {
  const { default: psTree } = (await import('ps-tree')) as { default: typeof psTreeType }
  const rows = await new Promise<readonly psTreeType.PS[]>((resolve, reject) =>
    psTree(ppid, (err, children) => (err ? reject(err) : resolve(children))),
  )
  const out: ProcInfo[] = []
  for (const row of rows) {
    if (Number(row.PPID) !== ppid || row.STAT.startsWith('Z')) continue
    const info = procInfo(Number(row.PID))
    if (info && info.ppid === ppid) out.push(info)
  }
  return out.sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid)
}

export interface Usage {
  cpu: number
  rssBytes: number
}

/** CPU % and resident memory, from pidusage. Missing processes are simply absent from the map. */
export async function usage(pids: number[]): Promise<Map<number, Usage>> {
  const out = new Map<number, Usage>()
  if (pids.length === 0) return out
  const { default: pidusage } = await import('pidusage')
  const stats = await Promise.all(
    pids.map((pid) =>
      pidusage(pid).then(
        (s) => [pid, s] as const,
        () => null,
      ),
    ),
  )
  for (const entry of stats) {
    if (entry) out.set(entry[0], { cpu: entry[1].cpu, rssBytes: entry[1].memory })
  }
  return out
}
