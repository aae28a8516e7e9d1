/**
 * The process table as pidusage sees it (CPU and memory), beside /proc (procfs.ts). The package
 * is loaded only when asked for: a command that never needs it does not pay its start-up.
 */
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
