// The generated WSGIDispatchScript, run for real with python3 against sample environs.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { environKey, renderDispatchScript, type RouteSpec } from '../../src/switch/dispatch-script.js'

/** Load the script as mod_wsgi does (exec of the file as a module) and call process_group on each environ. */
const route = (t: Tap.Test, spec: RouteSpec, environs: Array<Record<string, string>>): string[] => {
  const dir = t.testdir({})
  const script = join(dir, 'dispatch.py')
  writeFileSync(script, renderDispatchScript(spec))
  const runner = [
    'import importlib.util, json, sys',
    'spec = importlib.util.spec_from_file_location("_mod_wsgi_dispatch", sys.argv[1])',
    'mod = importlib.util.module_from_spec(spec)',
    'spec.loader.exec_module(mod)',
    'out = []',
    'for environ in json.load(sys.stdin):',
    '    group = mod.process_group(environ)',
    '    assert isinstance(group, str), repr(group)',
    '    out.append(group)',
    'print(json.dumps(out))',
  ].join('\n')
  const r = spawnSync('python3', ['-c', runner, script], { input: JSON.stringify(environs), encoding: 'utf8' })
  t.equal(r.status, 0, 'python3 ran the generated script', { stderr: r.stderr })
  return JSON.parse(r.stdout) as string[]
}

const canary = (over: Partial<NonNullable<RouteSpec['canary']>>): RouteSpec => ({
  to: 'app:green',
  canary: { stable: 'app:blue', percent: 0, stickyCookie: null, header: null, by: 'random', ...over },
})

const env = (over: Record<string, string> = {}) => ({ REQUEST_METHOD: 'GET', PATH_INFO: '/', REMOTE_ADDR: '127.0.0.1', ...over })

t.test('a full switch always answers the one group', async (t) => {
  t.same(route(t, { to: 'app:maintenance', canary: null }, [env(), env({ HTTP_X_CANARY: '1' }), {}]), ['app:maintenance', 'app:maintenance', 'app:maintenance'])
})

t.test('0% and 100% send nobody / everybody to the canary', async (t) => {
  const many = Array.from({ length: 200 }, (_, i) => env({ REMOTE_ADDR: `10.0.${i >> 8}.${i & 255}` }))
  t.same(new Set(route(t, canary({ percent: 0 }), many)), new Set(['app:blue']))
  t.same(new Set(route(t, canary({ percent: 100 }), many)), new Set(['app:green']))
})

t.test('a random share is roughly the percentage', async (t) => {
  const n = 4000
  const got = route(t, canary({ percent: 25 }), Array.from({ length: n }, () => env()))
  const share = got.filter((g) => g === 'app:green').length / n
  t.ok(share > 0.2 && share < 0.3, `25% canary sent ${(share * 100).toFixed(1)}% to app:green`)
})

t.test('by remote address: each client always lands in the same group, about the share overall', async (t) => {
  const clients = Array.from({ length: 1000 }, (_, i) => `192.168.${i >> 8}.${i & 255}`)
  const once = route(t, canary({ percent: 30, by: 'remote-addr' }), clients.map((a) => env({ REMOTE_ADDR: a })))
  const twice = route(t, canary({ percent: 30, by: 'remote-addr' }), clients.map((a) => env({ REMOTE_ADDR: a })))
  t.same(once, twice, 'deterministic per client')
  const share = once.filter((g) => g === 'app:green').length / clients.length
  t.ok(share > 0.25 && share < 0.35, `30% by address sent ${(share * 100).toFixed(1)}% of clients to app:green`)
})

t.test('sticky cookie: the same cookie value always gets the same group; raising the share only moves clients to the canary', async (t) => {
  const sids = Array.from({ length: 500 }, (_, i) => `s${i}x${(i * 7919) % 1000}`)
  const environs = sids.map((sid) => env({ HTTP_COOKIE: `theme=dark; sid=${sid}; other=1` }))
  const at10 = route(t, canary({ percent: 10, stickyCookie: 'sid' }), environs)
  t.same(route(t, canary({ percent: 10, stickyCookie: 'sid' }), environs), at10, 'same value, same group, every time')
  const at50 = route(t, canary({ percent: 50, stickyCookie: 'sid' }), environs)
  t.ok(at10.every((g, i) => g === 'app:blue' || at50[i] === 'app:green'), 'a client in the 10% canary is still in it at 50%')
  const share = at50.filter((g) => g === 'app:green').length / sids.length
  t.ok(share > 0.42 && share < 0.58, `50% by cookie: ${(share * 100).toFixed(1)}%`)
  // cookie name matching is exact; quoted values are unquoted
  const exact = route(t, canary({ percent: 100, stickyCookie: 'sid' }), [env({ HTTP_COOKIE: 'xsid=1' })])
  t.same(exact, ['app:green'], 'without the cookie the request falls back to the share (100% here)')
  const quoted = route(t, canary({ percent: 50, stickyCookie: 'sid' }), [env({ HTTP_COOKIE: 'sid="abc"' }), env({ HTTP_COOKIE: 'sid=abc' })])
  t.equal(quoted[0], quoted[1], 'sid="abc" and sid=abc are the same client')
})

t.test('canary header: any value but empty or 0 forces the canary, whatever the share', async (t) => {
  const spec = canary({ percent: 0, header: 'X-Canary' })
  t.equal(environKey('X-Canary'), 'HTTP_X_CANARY')
  t.same(
    route(t, spec, [env(), env({ HTTP_X_CANARY: '1' }), env({ HTTP_X_CANARY: 'yes' }), env({ HTTP_X_CANARY: '0' }), env({ HTTP_X_CANARY: '' })]),
    ['app:blue', 'app:green', 'app:green', 'app:blue', 'app:blue'],
  )
})

t.test('never raises into mod_wsgi: a broken environ routes to the stable group', async (t) => {
  // HTTP_COOKIE that is not a string makes the cookie parser raise; the request still gets a group
  const dir = t.testdir({})
  const script = join(dir, 'dispatch.py')
  writeFileSync(script, renderDispatchScript(canary({ percent: 50, stickyCookie: 'sid' })))
  const r = spawnSync(
    'python3',
    ['-c', 'import runpy,sys; m = runpy.run_path(sys.argv[1]); print(m["process_group"]({"HTTP_COOKIE": 42}))', script],
    { encoding: 'utf8' },
  )
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout.trim(), 'app:blue')
})

t.test('the script is valid for Python 3.8 syntax and the standard library only', async (t) => {
  const text = renderDispatchScript(canary({ percent: 10, stickyCookie: 'sid', header: 'X-Canary', by: 'remote-addr' }))
  t.notMatch(text, /:=|match |f"/, 'no walrus, match statement or f-strings')
  const imports = [...text.matchAll(/^import (\w+)/gm)].map((m) => m[1])
  t.same(imports, ['hashlib', 'random'])
  const r = spawnSync('python3', ['-c', 'import ast,sys; ast.parse(sys.stdin.read(), feature_version=(3, 8))'], { input: text, encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
})
