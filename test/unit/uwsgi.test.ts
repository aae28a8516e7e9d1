import t from 'tap'
import { join } from 'node:path'
import type { Readiness } from '../../src/readiness/protocol.js'
import type { ProcInfo } from '../../src/proc/procfs.js'
import type { Target } from '../../src/servers/types.js'
import { isCommandLine, lazyOf, uwsgi, uwsgiEvidence } from '../../src/servers/uwsgi/index.js'
import { addEnvOptions, boolOption, emptyOptions, lastValue, parseCommandLine } from '../../src/servers/uwsgi/options.js'

t.test('command line: flags, values, short options, --opt=value', async (t) => {
  const o = parseCommandLine(
    ['/usr/bin/uwsgi', '--plugin', 'python3', '--master', '-p', '4', '--lazy-apps', '--wsgi-file', '/srv/app/wsgi.py', '--procname-master=app:blue', '-T'],
    '/',
  )
  t.equal(lastValue(o, 'plugin'), 'python3')
  t.equal(boolOption(o, 'master'), true)
  t.equal(lastValue(o, 'processes'), '4')
  t.equal(boolOption(o, 'lazy-apps'), true, 'a flag does not eat the next option')
  t.equal(lastValue(o, 'wsgi-file'), '/srv/app/wsgi.py')
  t.equal(lastValue(o, 'procname-master'), 'app:blue')
  t.equal(boolOption(o, 'enable-threads'), true)
  t.equal(boolOption(o, 'need-app'), null, 'not set')
  t.same(o.sources, ['command line'])
})

t.test('ini files: named by --ini or by extension, [uwsgi] section, includes, magic variables', async (t) => {
  const dir = t.testdir({
    'blue.ini': ['[uwsgi]', 'master = true', 'lazy-apps = true', 'procname-master = %n', 'wsgi-file = %dapp.py', 'ini = common.ini', '', '[other]', 'lazy-apps = false'].join('\n'),
    'common.ini': ['[uwsgi]', '; shared', 'touch-reload = /srv/reload', 'env = ROLLING_RESTART_NOTIFY=127.0.0.1:4013'].join('\n'),
    'off.ini': ['[uwsgi]', 'lazy_apps = false'].join('\n'),
  })
  const o = parseCommandLine(['uwsgi', '--ini', 'blue.ini'], dir)
  t.same(o.iniFiles, [join(dir, 'blue.ini'), join(dir, 'common.ini')])
  t.equal(boolOption(o, 'lazy-apps'), true, 'the [other] section is not read')
  t.equal(lastValue(o, 'procname-master'), 'blue', '%n is the file name without extension')
  t.equal(lastValue(o, 'wsgi-file'), join(dir, 'app.py'), '%d is the directory of the file')
  t.equal(lastValue(o, 'touch-reload'), '/srv/reload', 'included file read')
  t.same(o.values.get('env'), ['ROLLING_RESTART_NOTIFY=127.0.0.1:4013'])

  const byExt = parseCommandLine(['uwsgi', join(dir, 'off.ini'), '--master'], '/')
  t.equal(boolOption(byExt, 'lazy-apps'), false, 'lazy_apps = false, by extension, underscores as dashes')
  const yaml = parseCommandLine(['uwsgi', '--yaml', 'app.yaml'], dir)
  t.same(yaml.unread, ['app.yaml'], 'YAML is not read, and says so')
  const missing = parseCommandLine(['uwsgi', '--ini', 'nope.ini'], dir)
  t.same(missing.unread, [join(dir, 'nope.ini')])
})

t.test('UWSGI_* environment variables are options', async (t) => {
  const o = emptyOptions()
  addEnvOptions(o, { UWSGI_LAZY_APPS: '1', PATH: '/bin', UWSGI_RELOADS: '0' })
  t.equal(boolOption(o, 'lazy-apps'), true)
  t.equal(lastValue(o, 'reloads'), null, "uWSGI's own bookkeeping variable is not an option")
})

t.test('lazy-apps: from the options first, else from which pid the log says loaded the app', async (t) => {
  const on = parseCommandLine(['uwsgi', '--lazy-apps'], '/')
  t.match(lazyOf(100, on, true, null, null), { on: true, evidence: /lazy-apps is on \(command line\)/ })
  const none = parseCommandLine(['uwsgi', '--master'], '/')
  t.match(lazyOf(100, none, true, null, null), { on: false, evidence: /neither --lazy-apps nor lazy-apps = true/ })
  const master = "WSGI app 0 (mountpoint='') ready in 1 seconds on interpreter 0x7f23 pid: 100 (default app)\n"
  const worker = "WSGI app 0 (mountpoint='') ready in 1 seconds on interpreter 0x7f23 pid: 102 (default app)\n"
  t.match(lazyOf(100, emptyOptions(), false, '/var/log/u.log', master), { on: false, evidence: /shows the app loaded by the master \(pid 100\)/ })
  t.match(lazyOf(100, emptyOptions(), false, '/var/log/u.log', master + worker), { on: true, evidence: /loaded by worker 102/ }, 'the last load decides')
  t.match(lazyOf(100, emptyOptions(), false, null, null), { on: null, evidence: /hidden by its process title.*--server-config/ })
})

t.test("the log's account of one worker since it was spawned", async (t) => {
  const log = [
    'Respawned uWSGI worker 1 (new pid: 300)',
    'Traceback (most recent call last):',
    '  File "/srv/app/uwsgi_app.py", line 2, in <module>',
    'ImportError: crash_on_import: this release cannot be imported',
    "unable to load app 0 (mountpoint='') (callable not found or import error)",
    'Respawned uWSGI worker 2 (new pid: 301)',
    'rolling-restart-hook: pid 301 READY=1 200 OK -> 127.0.0.1:4012',
  ].join('\n')
  t.match(uwsgiEvidence(log, 300), { failure: /unable to load app 0/, exception: /^ImportError: crash_on_import/ })
  t.match(uwsgiEvidence(log, 301), { failure: null, hook: 'pid 301 READY=1 200 OK -> 127.0.0.1:4012' })
  t.same(uwsgiEvidence(log, 999), { failure: null, exception: null, hook: null })
})

t.test('command line or process title', async (t) => {
  t.ok(isCommandLine(['/usr/bin/uwsgi', '--ini', 'x.ini']))
  t.ok(isCommandLine(['uwsgi-core']))
  t.notOk(isCommandLine(['app:blue']), 'procname-master title')
  t.notOk(isCommandLine(['uWSGI master']))
})

t.test('GROUP is procname-master when there is one', async (t) => {
  const r = (group: string | null): Readiness => ({ kind: 'full', ready: true, pid: 1, ppid: null, group, status: '200 OK', statusCode: 200, release: null, root: null, bootMs: null, mac: null })
  const named = { group: 'app:blue', meta: { procname: 'app:blue' } } as unknown as Target
  t.ok(uwsgi.groupMatches?.(named, r('app:blue')))
  t.notOk(uwsgi.groupMatches?.(named, r('app:green')))
  const unnamed = { group: 'blue', meta: { procname: null } } as unknown as Target
  t.notOk(uwsgi.groupMatches?.(unnamed, r('other')), 'a GROUP the master cannot have')
  t.equal(uwsgi.stopSignal, 'SIGHUP')
  t.equal(uwsgi.canSurge, false)
})

t.test("a worker may be signalled only once it has the worker's own handlers (SIGUSR2 caught)", async (t) => {
  const masks = new Map<number, { caught: bigint; ignored: bigint }>([
    [1, { caught: 0x84687n, ignored: 0x1001000n }], // master (uWSGI 2.0.21, seen on this kind of machine)
    [2, { caught: 0x8085e83n, ignored: 0x1000004n }], // worker that has loaded its app
    [3, { caught: 0x8084687n, ignored: 0x1001000n }], // respawned worker still loading: the master's handlers
    [4, { caught: 0x8080480n, ignored: 0x1001000n }], // first-generation worker still loading
  ])
  const procfs = await import('../../src/proc/procfs.js')
  const { uwsgi: mocked } = await t.mockImport<typeof import('../../src/servers/uwsgi/index.js')>('../../src/servers/uwsgi/index.js', {
    '../../src/proc/procfs.js': { ...procfs, readSignalMasks: (pid: number) => masks.get(pid) ?? null },
  })
  const target = { masterPid: 1, group: 'g', meta: {} } as unknown as Target
  const w = (pid: number) => ({ pid }) as ProcInfo
  t.equal(mocked.stillBooting?.(target, w(2)), null)
  t.match(mocked.stillBooting?.(target, w(3)), /has not finished booting.*stop a different worker/)
  t.match(mocked.stillBooting?.(target, w(4)), /has not finished booting/)
  t.equal(mocked.stillBooting?.(target, w(9)), null, 'a worker that is gone: the roller sees that itself')
  masks.set(1, { caught: 0x84687n | (1n << 11n), ignored: 0n })
  t.match(mocked.stillBooting?.(target, w(2)), /cannot tell/, 'a master that catches SIGUSR2 too: refuse to guess')
})

t.test("uWSGI's stats server: where to connect, and the requests per worker in its JSON", async (t) => {
  const { requestsOfStats, statsAddress } = await import('../../src/servers/uwsgi/stats.js')
  t.same(statsAddress('127.0.0.1:1717', '/srv'), { host: '127.0.0.1', port: 1717 })
  t.same(statsAddress(':1717', '/srv'), { host: '127.0.0.1', port: 1717 }, 'every interface: asked on loopback')
  t.same(statsAddress('[::1]:1717', '/srv'), { host: '::1', port: 1717 })
  t.same(statsAddress('stats.sock', '/srv/app'), { path: '/srv/app/stats.sock' }, "relative to the master's directory")
  t.same(statsAddress('/run/uwsgi/stats.sock', '/srv'), { path: '/run/uwsgi/stats.sock' })
  t.same(statsAddress('@stats', '/srv'), { path: '\0stats' }, 'an abstract socket')
  const doc = JSON.stringify({ version: '2.0.21', pid: 10, workers: [{ id: 1, pid: 11, requests: 5 }, { id: 2, pid: 12, requests: 0 }, { id: 3, pid: 0, requests: 0 }] })
  t.same(requestsOfStats(doc), { '11': 5, '12': 0 }, 'a slot with no process (pid 0) is left out')
  t.same(requestsOfStats(`HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n${doc}`), { '11': 5, '12': 0 }, 'stats-http')
  t.equal(requestsOfStats('not json'), null)
  t.equal(requestsOfStats('{"version":"2.0"}'), null)
})
