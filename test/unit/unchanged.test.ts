// Whether the running workers vouch for the code on disk (src/preflight/unchanged.ts), and the
// record they hold (src/proc/loaded-record.ts): every rule that would skip the preflight wrongly.
import t from 'tap'
import type { FileIdentity } from '../../src/proc/loaded-record.js'
import { parseLoadedFiles } from '../../src/proc/loaded-record.js'
import { changedField, vouchForRelease, type ReadRecord, type StatNow } from '../../src/preflight/unchanged.js'

const file = (path: string, ino = 10, size = 100, mtimeNs = '1000', ctimeNs = '1000') => [path, 2049, ino, size, mtimeNs, ctimeNs]
const dir = (path: string, ino = 5, mtimeNs = '900', ctimeNs = '900') => [path, 2049, ino, mtimeNs, ctimeNs]
const body = (files: unknown[][], dirs: unknown[][], unreadable: string[] = []) => JSON.stringify({ cwd: '/srv/app', files, dirs, unreadable })

/** The disk: path -> identity, as the record has it unless changed. */
function disk(entries: Record<string, FileIdentity | null>): StatNow & { calls: string[] } {
  const calls: string[] = []
  const stat = ((path: string) => {
    calls.push(path)
    return path in entries ? (entries[path] ?? null) : null
  }) as StatNow & { calls: string[] }
  stat.calls = calls
  return stat
}
const same = () => ({
  '/srv/app/app.py': { dev: 2049, ino: 10, size: 100, mtimeNs: '1000', ctimeNs: '1000' },
  '/srv/app': { dev: 2049, ino: 5, size: null, mtimeNs: '900', ctimeNs: '900' },
})
/** pids in order, and the body each holds */
const records = (bodies: Record<number, string | null>): [number[], ReadRecord] => [
  Object.keys(bodies).map(Number),
  (pid) => {
    const b = bodies[pid] ?? null
    return b === null ? null : { digest: `sha1 of ${b}`, body: () => b }
  },
]
const B = body([file('/srv/app/app.py')], [dir('/srv/app')])

t.test('every worker loaded what is on disk: vouched, each body and each path examined once', async (t) => {
  const stat = disk(same())
  const v = vouchForRelease(...records({ 1: B, 2: B, 3: B }), parseLoadedFiles, stat)
  t.same(v, { vouched: true, workers: 3, files: 1, dirs: 1 })
  t.same(stat.calls, ['/srv/app/app.py', '/srv/app'])
  let bodies = 0
  const read: ReadRecord = () => ({ digest: 'd1', body: () => (bodies++, B) })
  t.match(vouchForRelease([1, 2, 3, 4], read, parseLoadedFiles, disk(same())), { vouched: true, workers: 4 })
  t.equal(bodies, 1, 'the body of one digest is read once')
})

t.test('each way the disk can differ from what was loaded: the preflight runs, and says why', async (t) => {
  const cases: Array<[string, Record<string, FileIdentity | null>, RegExp]> = [
    ['edited (size)', { ...same(), '/srv/app/app.py': { ...same()['/srv/app/app.py'], size: 101 } }, /app.py changed since worker 1 loaded it \(its size\)/],
    ['edited, times put back (ctime)', { ...same(), '/srv/app/app.py': { ...same()['/srv/app/app.py'], ctimeNs: '1001' } }, /\(its change time\)/],
    ['replaced by rename (inode)', { ...same(), '/srv/app/app.py': { ...same()['/srv/app/app.py'], ino: 11 } }, /\(its inode\)/],
    ['a symlinked release switched (device)', { ...same(), '/srv/app/app.py': { ...same()['/srv/app/app.py'], dev: 2050 } }, /\(its device\)/],
    ['removed', { ...same(), '/srv/app/app.py': null }, /app.py is gone since worker 1 loaded it/],
    ['a module added beside it', { ...same(), '/srv/app': { ...same()['/srv/app'], mtimeNs: '901' } }, /an entry of \/srv\/app was added, removed or renamed/],
  ]
  for (const [name, entries, why] of cases) {
    const v = vouchForRelease(...records({ 1: B }), parseLoadedFiles, disk(entries))
    t.equal(v.vouched, false, name)
    if (!v.vouched) t.match(v.why, why, name)
  }
})

t.test('what cannot vouch: no worker, a worker without a record, a module in an archive, a record that does not parse', async (t) => {
  const stat = disk(same())
  t.match(vouchForRelease(...records({  }), parseLoadedFiles, stat), { vouched: false, why: /no running worker/ })
  t.match(vouchForRelease(...records({ 1: B, 2: null }), parseLoadedFiles, stat), { vouched: false, why: /worker 2 holds no record/ })
  const zipped = body([file('/srv/app/app.py')], [dir('/srv/app')], ['/srv/app/deps.zip/mod.py'])
  t.match(vouchForRelease(...records({ 1: zipped }), parseLoadedFiles, stat), { vouched: false, why: /loaded \/srv\/app\/deps.zip\/mod.py, which cannot be examined/ })
  for (const bad of ['not json', '{}', body([['/a', 1, 2, 3, 4, '5']], []), body([], [['/d', '1', 2, '3', '4']]), JSON.stringify({ files: [], dirs: [], unreadable: [1] })]) {
    t.match(vouchForRelease(...records({ 1: bad }), parseLoadedFiles, stat), { vouched: false, why: /worker 1's record of what it loaded cannot be read/ }, bad)
  }
  // one worker loaded a different set (it booted after a change): its own body is checked too
  const other = body([file('/srv/app/app.py', 10, 99)], [dir('/srv/app')])
  t.match(vouchForRelease(...records({ 1: B, 2: other }), parseLoadedFiles, stat), { vouched: false, why: /changed since worker 2 loaded it \(its size\)/ })
})

t.test('changedField names the first field that differs, null for the same file', async (t) => {
  const a: FileIdentity = { dev: 1, ino: 2, size: 3, mtimeNs: '4', ctimeNs: '5' }
  t.equal(changedField(a, { ...a }), null)
  t.equal(changedField(a, { ...a, mtimeNs: '6' }), 'modification time')
})
