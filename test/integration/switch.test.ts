// Blue/green switching on a real Apache 2.4 + mod_wsgi 4.9: two daemon groups (app:blue,
// app:green), a maintenance group and a broken group (app:red), routed on /site by a RewriteMap txt
// file and on /d by a WSGIDispatchScript, both written by `rolling-restart switch`.
//
// Facts this test relies on, checked on this machine:
// - mod_wsgi's WSGIProcessGroup %{ENV:NAME} takes the group from the request's environment
//   (mod_wsgi.c, wsgi_process_group: r->notes, then r->subprocess_env), which a server-level
//   RewriteRule [E=...] sets before mod_wsgi looks; a name Apache does not run is a 500.
// - mod_rewrite stats a txt map on every lookup and re-reads it when the mtime changed
//   (mod_rewrite.c, lookup_map / get_cache_value); the cache is per Apache child.
// - mod_wsgi re-imports the dispatch script when its mtime changed (wsgi_execute_dispatch,
//   wsgi_reload_required) unless WSGIScriptReloading Off applies to the request.
// - One shared mount script (site.wsgi: `from app import application`) serves the release of
//   whichever group runs it, because each group's python-path starts with its own code directory.
import t from 'tap'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { request } from 'node:http'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { startApache } from '../helpers/apache.js'
import { makeAppDir } from '../helpers/apps.js'
import { runCli, type CliResult } from '../helpers/cli.js'
import { startLoad } from '../helpers/load.js'
import { freeUdpPort } from '../helpers/ports.js'
import { waitFor } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'

// The maintenance group of the mod_wsgi upgrade guide: 503 for everything, except /_status so a
// --verify-url can tell that the group is up.
const MAINTENANCE_APP = `
def application(environ, start_response):
    if environ.get("PATH_INFO") == "/_status":
        body, status = b"ok\\n", "200 OK"
    else:
        body, status = b"maintenance: back soon\\n", "503 Service Unavailable"
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body))), ("Retry-After", "60")])
    return [body]
`

interface Answer {
  status: number
  body: string
}

const get = (port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.setTimeout(15_000, () => req.destroy(new Error(`GET ${path}: no answer in 15 s`)))
    req.on('error', reject)
    req.end()
  })

/** The release each of `n` requests was served by (`release=green` in the body), or `STATUS:...` for a non-200. */
const releases = async (port: number, path: string, n: number, headers: Record<string, string> = {}): Promise<string[]> => {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const a = await get(port, path, headers)
    out.push(a.status === 200 ? (/release=(\S+)/.exec(a.body)?.[1] ?? `BODY:${a.body.trim()}`) : `STATUS:${a.status}`)
  }
  return out
}

const uniq = (xs: string[]): string[] => [...new Set(xs)].sort()

interface SwitchReport {
  ok: boolean
  action: string
  mechanism: string
  file: string
  from: string | null
  to: string
  forced: boolean
  checks: { group: string; masterPid: number | null; processes: number[]; readyPids: number[]; unknownPids: number[]; problems: string[]; verify: { ok: boolean; detail: string } | null }
  inode: number
  previousInode: number | null
}

t.test('blue/green on one Apache', async (t) => {
  const notifyPort = await freeUdpPort()
  const blue = makeAppDir(t, 'good', { revision: 'blue' })
  const green = makeAppDir(t, 'good', { revision: 'green' })
  const red = makeAppDir(t, 'status_500', { revision: 'red' })
  const maintenance = makeAppDir(t, { source: MAINTENANCE_APP })
  writeFileSync(join(maintenance, 'app.wsgi'), 'from app import application  # noqa: F401\n')
  const site = tempDir(t, 'site')
  // the mount every routed request runs: each group imports its own app.py (python-path)
  writeFileSync(join(site, 'site.wsgi'), 'from app import application  # noqa: F401\n', { mode: 0o644 })
  const map = join(site, 'wsgi-live.txt')
  const dispatch = join(site, 'dispatch.py')
  // the operator's starting map (mod_rewrite wants the file to exist when Apache starts)
  writeFileSync(map, 'current app:blue\n', { mode: 0o644 })
  const stateDir = tempDir(t, 'state')

  const extraConfig = [
    `WSGIDaemonProcess app:maintenance processes=1 threads=1 display-name=%{GROUP} python-path=${maintenance}`,
    `WSGIScriptAlias /maintenance "${maintenance}/app.wsgi" process-group=app:maintenance application-group=%{GLOBAL}`,
    `<Directory "${maintenance}">`,
    '  Require all granted',
    '</Directory>',
    '# WSGIScriptReloading is Off server-wide (so a changed script never recycles a group behind the',
    '# rolling restart\'s back); the directory of the mount script turns it back on, which the',
    '# dispatch script needs to be re-read after a switch',
    `<Directory "${site}">`,
    '  Require all granted',
    '  WSGIScriptReloading On',
    '</Directory>',
    '# /site: the live group comes from the RewriteMap file; a missing or unreadable entry parks traffic on maintenance',
    'RewriteEngine On',
    `RewriteMap wsgilive "txt:${map}"`,
    'RewriteRule ^/site(/|$) - [E=WSGI_GROUP:${wsgilive:current|app:maintenance}]',
    `WSGIScriptAlias /site "${site}/site.wsgi"`,
    '<Location /site>',
    '  WSGIProcessGroup %{ENV:WSGI_GROUP}',
    '  WSGIApplicationGroup %{GLOBAL}',
    '</Location>',
    '# /d: the group comes from the dispatch script',
    `WSGIScriptAlias /d "${site}/site.wsgi"`,
    '<Location /d>',
    '  WSGIProcessGroup app:maintenance',
    '  WSGIApplicationGroup %{GLOBAL}',
    `  WSGIDispatchScript "${dispatch}"`,
    '</Location>',
  ].join('\n')

  const apache = await startApache(t, {
    groups: [
      { name: 'app:blue', processes: 2, appDir: blue, urlPrefix: '/blue' },
      { name: 'app:green', processes: 2, appDir: green, urlPrefix: '/green' },
      { name: 'app:red', processes: 1, appDir: red, urlPrefix: '/red' },
    ],
    notifyPort,
    env: { BOOT_DELAY: '0.2' },
    scriptReloading: false,
    extraConfig,
  })
  await waitFor(async () => apache.groupPids('app:maintenance').length === 1 && (await get(apache.port, '/maintenance/_status')).status === 200, {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: 'the maintenance group to start',
  })
  const port = apache.port
  const url = (path: string) => `http://127.0.0.1:${port}${path}`
  const common = ['--apache-pidfile', apache.pidFile, '--state-dir', stateDir]
  const sw = (args: string[]): Promise<CliResult> => runCli(['switch', ...args, ...common, '--json'])
  const roll = (group: string, extra: string[] = []) =>
    runCli(['--group', group, '--server', 'mod_wsgi', ...common, '--notify', `127.0.0.1:${notifyPort}`, '--ready-timeout', '30s', ...extra, '--json'])

  t.same(uniq(await releases(port, '/site/', 6)), ['blue'], 'the starting map routes /site to app:blue')

  await t.test('roll the idle side, then switch the RewriteMap under load: no failed request, a new inode, never a partial file', async (t) => {
    const rolled = await roll('app:green')
    t.equal(rolled.code, 0, 'app:green rolled (the deploy step before the switch)', { stderr: rolled.stderr.slice(-2000) })
    const greenPids = apache.groupPids('app:green').sort((a, b) => a - b)

    const before = statSync(map)
    const oldText = readFileSync(map, 'utf8')
    // a tight reader, as mod_rewrite would be: every read must be a whole file, old or new
    const seen = new Map<string, number>()
    const errors: string[] = []
    const inodes = new Set<number>()
    let reading = true
    const reader = (async () => {
      while (reading) {
        try {
          const [text, st] = await Promise.all([readFile(map, 'utf8'), stat(map)])
          seen.set(text, (seen.get(text) ?? 0) + 1)
          inodes.add(st.ino)
        } catch (err) {
          errors.push((err as Error).message)
        }
      }
    })()
    const load = startLoad({ port, path: '/site/', concurrency: 4, maxDurationMs: 60_000, maxRequests: 20_000 })
    await waitFor(() => load.snapshot().total >= 40, { timeoutMs: 30_000, what: 'load to be running' })

    const r = await sw(['--to', 'app:green', '--map', map])
    t.equal(r.code, 0, 'switch exit 0', { stderr: r.stderr })
    const report = r.json as SwitchReport
    t.match(report, { ok: true, mechanism: 'map', from: 'app:blue', to: 'app:green', forced: false })
    t.same(report.checks.readyPids.sort((a, b) => a - b), greenPids, 'every app:green process was found READY in its roll')
    t.equal(report.checks.masterPid, apache.parentPid)
    const after = (await releases(port, '/site/', 20))
    t.same(uniq(after), ['green'], 'every request after the switch is served by app:green')
    const more = load.snapshot().total
    await waitFor(() => load.snapshot().total >= more + 40, { timeoutMs: 30_000, what: 'more load after the switch' })
    const traffic = await load.stop()
    reading = false
    await reader

    t.equal(traffic.failed, 0, `no failed request during the switch (${traffic.total} requests): ${JSON.stringify(traffic.failures.slice(0, 3))}`)
    const now = statSync(map)
    t.not(now.ino, before.ino, `the map file is a new inode (${before.ino} -> ${now.ino})`)
    t.equal(report.inode, now.ino)
    t.equal(report.previousInode, before.ino)
    t.ok(now.mtimeMs > before.mtimeMs, 'with a later mtime (what mod_rewrite checks)')
    const newText = readFileSync(map, 'utf8')
    t.match(newText, /^current app:green$/m)
    t.same(errors, [], 'the reader never found the file missing')
    t.same([...seen.keys()].filter((x) => x !== oldText && x !== newText), [], `the reader saw only whole files (${[...seen.values()].reduce((a, b) => a + b, 0)} reads)`)
    t.ok(seen.has(newText), 'the reader saw the new file')
  })

  await t.test('--back needs the previous group to be ready too; --verify-url can vouch for it', async (t) => {
    const inode = statSync(map).ino
    const refused = await sw(['--back', '--map', map])
    t.equal(refused.code, 5, 'refused: app:blue was never rolled, so nothing says its processes are ready')
    t.match(refused.stderr, /refusing to switch traffic to app:blue: processes \d+, \d+ never reported READY.*--verify-url URL.*--force/)
    t.equal(statSync(map).ino, inode, 'the map file was not touched')
    t.same(uniq(await releases(port, '/site/', 6)), ['green'])

    const back = await sw(['--back', '--map', map, '--verify-url', url('/blue/_status')])
    t.equal(back.code, 0, back.stderr)
    t.match(back.json, { ok: true, action: 'back', from: 'app:green', to: 'app:blue', checks: { verify: { ok: true, detail: '200 OK' } } })
    t.same(uniq(await releases(port, '/site/', 10)), ['blue'], '--back returned /site to app:blue')
    const again = await sw(['--back', '--map', map])
    t.equal(again.code, 0, 'a second --back toggles to app:green again', { stderr: again.stderr })
    t.same(uniq(await releases(port, '/site/', 10)), ['green'])
    const history = JSON.parse(readFileSync(`${map}.history.json`, 'utf8')) as { entries: Array<{ route: { to: string }; back: boolean }> }
    t.same(
      history.entries.map((e) => [e.route.to, e.back]),
      [['app:blue', false], ['app:green', false], ['app:blue', true], ['app:green', true]],
      'the history starts with what the hand-written map said, then each switch',
    )
  })

  await t.test('refusals: a failed roll, a --verify-url answering 500, an unknown group; --force overrides', async (t) => {
    // without the preflight (which would stop the roll before any worker), so that a new daemon
    // process really boots, answers READY=0 and stays in the state file as failed
    const failedRoll = await roll('app:red', ['--no-preflight'])
    t.equal(failedRoll.code, 4, 'rolling app:red fails: its /_status answers 500', { stderr: failedRoll.stderr.slice(-1500) })
    const inode = statSync(map).ino
    const text = readFileSync(map, 'utf8')

    const r1 = await sw(['--to', 'app:red', '--map', map])
    t.equal(r1.code, 5, 'exit 5: refused')
    t.match(r1.stderr, /refusing to switch traffic to app:red: .*error-resistance mode.*process \d+ \(500 Internal Server Error\) reported a failed boot/)
    t.match(r1.stderr, /Nothing was changed: .*wsgi-live\.txt still routes to app:green.*--force to switch anyway/)
    t.match(r1.json, { ok: false, error: { exitCode: 5, code: 'not-ready' } })

    const r2 = await sw(['--to', 'app:green', '--map', map, '--verify-url', url('/red/_status')])
    t.equal(r2.code, 5, 'a --verify-url that answers 500 refuses even a group whose roll was good')
    t.match(r2.stderr, /--verify-url http:\/\/127\.0\.0\.1:\d+\/red\/_status answered 500 Internal Server Error, not 2xx/)

    const r3 = await sw(['--to', 'app:nosuch', '--map', map])
    t.equal(r3.code, 3, 'exit 3: no such group')
    t.match(r3.stderr, /cannot switch to app:nosuch: .*answers 500 to every request.*--force/)
    t.equal(statSync(map).ino, inode, 'none of the refused switches touched the map')
    t.equal(readFileSync(map, 'utf8'), text)
    t.same(uniq(await releases(port, '/site/', 6)), ['green'], 'traffic stayed on app:green')

    const forced = await sw(['--to', 'app:red', '--map', map, '--force'])
    t.equal(forced.code, 0, '--force switches anyway')
    t.match(forced.stderr, /--force: switching to app:red although .*reported a failed boot/)
    t.match(forced.json, { ok: true, forced: true, to: 'app:red' })
    t.same(uniq(await releases(port, '/site/', 6)), ['red'], 'and traffic really moved (the broken release serves / fine)')

    const park = await sw(['--to', 'app:maintenance', '--map', map, '--verify-url', url('/maintenance/_status')])
    t.equal(park.code, 0, park.stderr)
    const parked = await get(port, '/site/')
    t.equal(parked.status, 503, '--to app:maintenance parks /site on the maintenance page')
    t.match(parked.body, /maintenance: back soon/)
    const out = await sw(['--to', 'app:green', '--map', map])
    t.equal(out.code, 0)
    t.same(uniq(await releases(port, '/site/', 6)), ['green'])
  })

  await t.test('WSGIDispatchScript: full switch, header-pinned canary, 100%, sticky cookie, all checked through Apache', async (t) => {
    const first = await sw(['--to', 'app:blue', '--dispatch', dispatch, '--verify-url', url('/blue/_status')])
    t.equal(first.code, 0, first.stderr)
    t.match(first.json, { from: null, to: 'app:blue', previousInode: null })
    t.same(uniq(await releases(port, '/d/', 8)), ['blue'], 'the dispatch script routes /d to app:blue')

    const c0 = await sw(['--to', 'app:green', '--dispatch', dispatch, '--canary', '0', '--canary-header', 'X-Canary'])
    t.equal(c0.code, 0, c0.stderr)
    t.same(uniq(await releases(port, '/d/', 12)), ['blue'], '--canary 0: nobody goes to app:green on their own')
    t.same(uniq(await releases(port, '/d/', 6, { 'X-Canary': '1' })), ['green'], '... unless the X-Canary header asks for it')

    const c100 = await sw(['--to', 'app:green', '--dispatch', dispatch, '--canary', '100'])
    t.equal(c100.code, 0, c100.stderr)
    t.same(uniq(await releases(port, '/d/', 12)), ['green'], '--canary 100: everybody goes to app:green')

    const sticky = await sw(['--to', 'app:green', '--dispatch', dispatch, '--canary', '50', '--sticky-cookie', 'sid'])
    t.equal(sticky.code, 0, sticky.stderr)
    t.match(sticky.json, { to: 'app:green', route: { canary: { stable: 'app:blue', percent: 50, stickyCookie: 'sid' } } }, 'the stable side is still app:blue')
    const sids = Array.from({ length: 16 }, (_, i) => `session-${i}`)
    // what the generated script says for each cookie, evaluated by python3 outside Apache
    const py = spawnSync(
      'python3',
      ['-c', 'import json,runpy,sys; m = runpy.run_path(sys.argv[1]); print(json.dumps([m["process_group"]({"HTTP_COOKIE": "sid=" + s}) for s in json.loads(sys.argv[2])]))', dispatch, JSON.stringify(sids)],
      { encoding: 'utf8' },
    )
    t.equal(py.status, 0, py.stderr)
    const expected = (JSON.parse(py.stdout) as string[]).map((g) => g.replace('app:', ''))
    t.same(uniq(expected), ['blue', 'green'], 'at 50% some sessions are in the canary and some are not')
    for (const [i, sid] of sids.entries()) {
      const got = await releases(port, '/d/', 3, { Cookie: `theme=dark; sid=${sid}` })
      t.same(got, [expected[i], expected[i], expected[i]], `sid=${sid} always lands on app:${expected[i]}`)
    }

    const full = await sw(['--to', 'app:green', '--dispatch', dispatch])
    t.equal(full.code, 0)
    t.same(uniq(await releases(port, '/d/', 10, { Cookie: 'sid=session-0' })), ['green'], 'a full switch ends the canary')
    const back = await sw(['--back', '--dispatch', dispatch])
    t.equal(back.code, 0, back.stderr)
    const restored = readFileSync(dispatch, 'utf8')
    t.match(restored, /CANARY_PERCENT = 50/, '--back restores the sticky 50% canary exactly')
  })
})
