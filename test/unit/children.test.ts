// A master's children from the kernel's per-task lists (/proc/PID/task/TID/children): the same
// answer as a scan of every process, and a child the kernel's list skips is not taken for gone.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { childPids, childrenOf } from '../../src/proc/procfs.js'

t.test('real children: listed with their command lines, gone once reaped', async (t) => {
  const kids = [0, 1, 2].map(() => spawn('sleep', ['30'], { stdio: 'ignore' }))
  t.teardown(() => kids.forEach((k) => k.exitCode === null && k.kill('SIGKILL')))
  const pids = kids.map((k) => k.pid as number)
  t.ok(
    pids.every((p) => (childPids(process.pid) ?? pids).includes(p)),
    'the kernel lists them (or has no list, and the scan is used)',
  )
  const seen = childrenOf(process.pid).filter((c) => pids.includes(c.pid))
  t.same(seen.map((c) => c.pid).sort(), [...pids].sort())
  t.ok(seen.every((c) => c.ppid === process.pid && c.cmdline === 'sleep 30'))
  const first = kids[0] as (typeof kids)[number]
  first.kill('SIGKILL')
  await once(first, 'exit')
  t.notOk(childrenOf(process.pid).some((c) => c.pid === first.pid), 'a reaped child is gone')
})

t.test('a child the kernel list skips is still found while its own stat says it is one', async (t) => {
  // parent 100 with children 101 and 102; the second look's list skips 101 (another child reaped meanwhile)
  let listing = '101 102 '
  const files: Record<string, () => string> = {
    '/proc/100/task/100/children': () => listing,
    '/proc/101/stat': () => '101 (w) S 100 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0',
    '/proc/102/stat': () => '102 (w) S 100 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 600 0 0',
    '/proc/101/cmdline': () => 'worker\0',
    '/proc/102/cmdline': () => 'worker\0',
    '/proc/stat': () => 'btime 1000\n',
  }
  const fs = await import('node:fs')
  const procfs = await t.mockImport<typeof import('../../src/proc/procfs.js')>('../../src/proc/procfs.js', {
    '../../src/proc/proc-read.js': { readProcText: (p: string) => files[p]?.() ?? null, readProcHeld: (p: string) => files[p]?.() ?? null },
    'node:fs': {
      ...fs,
      existsSync: (p: string) => (p.endsWith('/children') ? true : fs.existsSync(p)),
      readdirSync: (p: string) => (p === '/proc/100/task' ? ['100'] : fs.readdirSync(p)),
      readFileSync: (p: string) => {
        const f = files[p]
        if (!f) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' })
        return f()
      },
    },
  })
  t.same(procfs.childrenOf(100).map((c) => c.pid), [101, 102])
  listing = '102 '
  t.same(procfs.childrenOf(100).map((c) => c.pid), [101, 102], 'the skipped child is checked in its own stat')
  files['/proc/101/stat'] = () => '101 (w) Z 100 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0'
  t.same(procfs.childrenOf(100).map((c) => c.pid), [102], 'and dropped once it has exited')
})
