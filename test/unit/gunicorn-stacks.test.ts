// Gunicorn as people install it: which options take a value (20.1 and 26), proc_name from the
// config file, the worker class, and what doctor says about ASGI apps, gevent keep-alive and a
// post_worker_init of the config's own.
import t from 'tap'
import { gunicornSettings, parseGunicornArgs } from '../../src/servers/gunicorn/settings.js'
import { customHookHazard, workerKind } from '../../src/servers/gunicorn/stack-hazards.js'

const files = (m: Record<string, string>) => (p: string) => m[p] ?? null
const noLinks = (p: string) => p

t.test('flags that take no value keep the app name after them', async (t) => {
  for (const flag of ['--preload', '--reload', '--daemon', '-D', '--check-config', '--print-config', '--no-sendfile', '--reuse-port', '--capture-output', '--enable-stdio-inheritance', '-R', '--spew', '--strip-header-spaces', '--no-control-socket', '--permit-obsolete-folding', '--casefold-http-method', '--enable-backlog-metric']) {
    t.equal(parseGunicornArgs(['-w', '3', flag, 'app:app']).app, 'app:app', flag)
  }
  t.equal(parseGunicornArgs(['--preload', 'app:app']).preload, true)
  // 20.1: a flag; 26: an optional value
  t.equal(parseGunicornArgs(['--proxy-protocol', 'app:app']).app, 'app:app', '--proxy-protocol alone')
  t.equal(parseGunicornArgs(['--proxy-protocol', 'v2', 'app:app']).app, 'app:app', '--proxy-protocol v2')
  t.equal(parseGunicornArgs(['--proxy-protocol=auto', 'app:app']).app, 'app:app')
  t.equal(parseGunicornArgs(['--keep-alive', '5', '--control-socket', '/run/g.ctl', 'app:app']).app, 'app:app', 'options with a value skip it')
})

t.test('proc_name, worker class, threads and keep-alive, with their sources', async (t) => {
  const a = parseGunicornArgs(['-n', 'cli:name', '-k', 'gthread', '--threads', '4', '--keep-alive', '5', 'app:app'])
  t.match(a, { name: 'cli:name', workerClass: 'gthread', threads: 4, keepalive: 5 })
  const conf = "proc_name = 'api:blue'\nworker_class = 'uvicorn.workers.UvicornWorker'\nkeepalive = 10\n"
  const s = gunicornSettings({ args: ['-c', 'g.py', '--preload', 'fastapi_app:app'], env: {}, cwd: '/srv', readFile: files({ '/srv/g.py': conf }), realpath: noLinks })
  t.same(s.procName, { value: 'api:blue', from: 'config file' }, 'proc_name from the -c file, which the command line names')
  t.equal(s.defaultProcName, 'fastapi_app:app', '--preload does not hide the app')
  t.same(s.workerClass, { value: 'uvicorn.workers.UvicornWorker', from: 'config file' })
  t.same(s.keepalive, { value: 10, from: 'config file' })
  t.same(s.threads, { value: 1, from: 'default' })
  const cli = gunicornSettings({ args: ['-c', 'g.py', '-n', 'other', 'x:app'], env: { GUNICORN_CMD_ARGS: '--name envname' }, cwd: '/srv', readFile: files({ '/srv/g.py': conf }), realpath: noLinks })
  t.same(cli.procName, { value: 'other', from: 'command line' }, 'the command line wins, as in Gunicorn')
  const env = gunicornSettings({ args: ['-c', 'g.py', 'x:app'], env: { GUNICORN_CMD_ARGS: '--name envname' }, cwd: '/srv', readFile: files({ '/srv/g.py': conf }), realpath: noLinks })
  t.same(env.procName, { value: 'envname', from: 'GUNICORN_CMD_ARGS' })
  const none = gunicornSettings({ args: ['-w', '2'], env: {}, cwd: '/srv', readFile: files({ '/srv/gunicorn.conf.py': "wsgi_app = 'x:app'\n" }), realpath: noLinks })
  t.same(none.procName, { value: null, from: 'default' })
  t.equal(none.defaultProcName, 'gunicorn', "wsgi_app is not Gunicorn's default_proc_name: `gunicorn` is")
  t.same(none.keepalive, { value: 2, from: 'default' })
  t.same(none.workerClass, { value: 'sync', from: 'default' })
  const computed = gunicornSettings({ args: ['-c', 'g.py', 'x:app'], env: {}, cwd: '/srv', readFile: files({ '/srv/g.py': "proc_name = os.environ['NAME']\n" }), realpath: noLinks })
  t.equal(computed.procName.value, null, 'a computed proc_name is not guessed')
})

t.test('worker classes: ASGI, no drain, WSGI', async (t) => {
  for (const k of ['uvicorn.workers.UvicornWorker', 'uvicorn_worker.UvicornWorker', 'uvicorn.workers.UvicornH11Worker', 'asgi', 'gunicorn.workers.gasgi.ASGIWorker']) t.equal(workerKind(k), 'asgi', k)
  for (const k of ['gevent', 'eventlet', 'tornado', 'egg:gunicorn#gevent', 'gunicorn.workers.ggevent.GeventWorker']) t.equal(workerKind(k), 'no-drain', k)
  for (const k of ['sync', 'gthread', 'gunicorn.workers.sync.SyncWorker']) t.equal(workerKind(k), 'wsgi', k)
})

t.test("a config's own post_worker_init that never calls notify_worker", async (t) => {
  const own = customHookHazard('/c.py', 'from rolling_restart_hook.gunicorn import post_worker_init\n\ndef post_worker_init(worker):\n    worker.log.info("up")\n')
  t.match(own, { id: 'post-worker-init-without-hook', severity: 'warning', message: /\/c\.py defines its own post_worker_init, which never calls notify_worker/, fix: /notify_worker\(worker\)/ })
  t.equal(customHookHazard('/c.py', 'from rolling_restart_hook.gunicorn import notify_worker\ndef post_worker_init(worker):\n    notify_worker(worker)\n'), null)
  t.equal(customHookHazard('/c.py', 'from rolling_restart_hook.gunicorn import post_worker_init\n'), null, 'the bundled hook itself')
  t.equal(customHookHazard('/c.py', 'import rolling_restart_hook.gunicorn\npost_worker_init = rolling_restart_hook.gunicorn.post_worker_init\n'), null)
  t.ok(customHookHazard('/c.py', 'post_worker_init = my_hook\n'), 'an assignment of something else')
})

t.test('a replace goes through the master unless the workers drain on TERM (the master repeats the TERM of a worker it retires)', async (t) => {
  const { drainsOnTerm } = await import('../../src/servers/gunicorn/drain-on-term.js')
  const k = <T>(value: T) => ({ value, from: 'command line' })
  const of = (workerClass: string | null, threads: number | null, keepalive: number | null) => drainsOnTerm({ workerClass: k(workerClass), threads: k(threads), keepalive: k(keepalive) } as never)
  t.equal(of('sync', 1, 2), null, 'sync workers: through the master')
  t.match(of('gthread', 4, 2), /gthread workers drain keep-alive connections on TERM \(keepalive = 2 s\)/)
  t.equal(of('gthread', 4, 0), null, 'gthread without keep-alive drains nothing')
  t.match(of('sync', 4, 2), /gthread/, 'sync with threads is gthread')
  t.match(of('uvicorn.workers.UvicornWorker', 1, 2), /UvicornWorker workers drain keep-alive connections on TERM/)
  t.match(of(null, 1, 2), /worker class cannot be seen/, 'unknown: each worker its own TERM')
  t.match(of('gthread', 4, null), /keepalive cannot be seen/)
  t.equal(of('gevent', 1, 2), null, 'gevent: the hook does not drain it, nothing to cut short')
})

t.test('draining workers may still be retired through the master when their hook says it keeps draining on a repeated TERM', async (t) => {
  const { cutDrains } = await import('../../src/servers/gunicorn/drain-on-term.js')
  const drains = 'its gthread workers drain keep-alive connections on TERM (keepalive = 2 s), which the master repeats'
  t.equal(cutDrains(drains, []), null, 'every worker to retire keeps draining: through the master')
  t.match(cutDrains(drains, [41]), /which the master repeats, and worker 41 runs a hook that stops at once on a repeated TERM/)
  t.match(cutDrains(drains, [41, 42]), /and workers 41, 42 run a hook that stops at once/)
})

t.test('a surge is refused, with nothing touched, when the master would retire a worker whose drain it would cut; a replace asks about its own selection', async (t) => {
  const { replaceVia, whySurgeRefused } = await import('../../src/run/replace-via.js')
  const asked: number[][] = []
  const adapter = {
    canSurge: true,
    whyNotThroughMaster: (_t: unknown, retiring: ReadonlyArray<{ pid: number }>) => {
      asked.push(retiring.map((w) => w.pid))
      return retiring.some((w) => w.pid === 2) ? 'its gthread workers drain, and worker 2 runs a hook that stops at once on a repeated TERM' : null
    },
  } as never
  const target = {} as never
  const w = (pid: number) => ({ pid, startedAt: pid })
  const all = [w(1), w(2), w(3)]
  t.match(whySurgeRefused('surge', adapter, target, all), /^--strategy surge lets the master retire each old worker \(TTOU\).*worker 2 runs a hook.*Nothing was touched\. Workers fork with the hook their master loaded.*restart the master once/)
  t.equal(whySurgeRefused('surge', adapter, target, [w(1)]), null, 'only worker 1 is retired: it keeps draining')
  t.equal(whySurgeRefused('replace', adapter, target, all), null, 'replace is never refused for it')
  t.equal(whySurgeRefused('surge', adapter, target, []), null, 'nothing selected: nothing to refuse')
  t.same(replaceVia('replace', adapter, target, all, all), { via: 'worker', why: 'its gthread workers drain, and worker 2 runs a hook that stops at once on a repeated TERM' })
  t.same(replaceVia('replace', adapter, target, all, [w(1)]), { via: 'master', why: null })
  t.same(asked.slice(-2), [[1, 2, 3], [1]], 'the adapter is asked about the workers the master would retire')
})
