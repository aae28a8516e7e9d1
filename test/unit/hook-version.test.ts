// One version, checked: the HOOK field of the datagram, what differs enough to warn about, and
// the warning itself (one log event per version heard, one terminal line per run).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeDatagram, parseDatagram } from '../../src/readiness/protocol.js'
import { checkHookVersion } from '../../src/run/hook-version.js'
import { hookDrift, majorMinor, packageVersion } from '../../src/version.js'
import { hookLine } from '../../src/commands/doctor.js'
import { reportedHook } from '../../src/preflight/hook-check.js'
import { emptyState } from '../../src/state/state-file.js'
import type { Output } from '../../src/output/logger.js'
import { repoRoot } from '../helpers/paths.js'

function hookOf(text: string): string | null | undefined {
  const r = parseDatagram(Buffer.from(text))
  if (!r.ok || r.value.kind !== 'full') throw new Error(`not a full datagram: ${text}`)
  return r.value.hookVersion
}

/** An Output that keeps what was logged and printed. */
function capture() {
  const warnings: Array<{ fields: Record<string, unknown>; msg: string }> = []
  const lines: string[] = []
  const out = {
    logger: { warn: (fields: Record<string, unknown>, msg: string) => warnings.push({ fields, msg }) },
    progress: (line: string) => lines.push(line),
    event: () => undefined,
    flush: () => undefined,
  } as unknown as Output
  return { out, warnings, lines }
}

t.test('HOOK is parsed as hookVersion; absent or empty is null (unknown)', async (t) => {
  t.equal(hookOf('READY=1\nPID=9\nHOOK=0.1.0\n'), '0.1.0')
  t.equal(hookOf('READY=1\nPID=9\n'), null, 'an old hook sends none')
  t.equal(hookOf('READY=1\nPID=9\nHOOK=\n'), null)
  const round = parseDatagram(encodeDatagram({ ready: true, pid: 3, hook: '2.3.4' }))
  t.ok(round.ok && round.value.kind === 'full' && round.value.hookVersion === '2.3.4', 'encode writes it')
})

t.test('the CLI reads its version from package.json: the one place it is written', async (t) => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }
  t.equal(packageVersion(), pkg.version)
  t.match(readFileSync(join(repoRoot, 'python-hooks', 'pyproject.toml'), 'utf8'), /dynamic = \["version"\]/, 'the hook package takes it from there too')
  const galaxy = readFileSync(join(repoRoot, 'ansible', 'collections', 'ansible_collections', 'rolling_restart', 'fleet', 'galaxy.yml'), 'utf8')
  t.match(galaxy, new RegExp(`^version: ${pkg.version.replace(/\./g, '\\.')}$`, 'm'), 'the Ansible collection, which must spell it out, is checked against it')
})

t.test('only a major or minor difference matters', async (t) => {
  t.same(majorMinor('1.4.2'), [1, 4])
  t.same(majorMinor('0.2.0-rc.1'), [0, 2])
  t.equal(majorMinor('banana'), null)
  t.equal(hookDrift('0.1.0', '0.1.7'), null, 'a patch release of the hook is fine')
  t.match(hookDrift('0.2.0', '0.1.0'), { message: /hook is version "0\.1\.0" and rolling-restart is 0\.2\.0 \(another major or minor version\)/, fix: /hook-path.*restart the master once/ })
  t.match(hookDrift('1.0.0', '0.9.9'), { message: /another major or minor/ })
  t.match(hookDrift('0.1.0', 'weird'), { message: /not a version number/ })
  t.match(hookDrift('0.1.0', null), { message: /sends no version \(no HOOK field\): an old hook, and rolling-restart is 0\.1\.0/ })
})

t.test('a datagram from a hook of another version is reported: one log event per version, one warning line per run', async (t) => {
  const { out, warnings, lines } = capture()
  const old = hookOf('READY=1\nPID=5160\nSTATUS=200 OK\nHOOK=0.0.9\n') ?? null
  checkHookVersion(out, 5160, old, '0.1.0')
  checkHookVersion(out, 5161, old, '0.1.0')
  checkHookVersion(out, 5162, null, '0.1.0')
  checkHookVersion(out, 5163, '0.1.2', '0.1.0')
  t.same(
    warnings.map((w) => [w.fields.event, w.fields.pid, w.fields.hookVersion, w.fields.version]),
    [
      ['hook-version', 5160, '0.0.9', '0.1.0'],
      ['hook-version', 5162, null, '0.1.0'],
    ],
    'once for 0.0.9, once for the hook with no version; nothing for a matching one',
  )
  t.match(warnings[1]?.msg, /worker 5162: the hook sends no version.*an old hook/)
  t.equal(lines.length, 1, 'one line on the terminal')
  t.match(lines[0], /^ {2}warning: worker 5160: the hook is version "0\.0\.9" and rolling-restart is 0\.1\.0 .*; install this version's hook/)

  const next = capture()
  checkHookVersion(next.out, 7000, old, '0.1.0')
  t.equal(next.lines.length, 1, 'another run (another output) warns again')
})

t.test('doctor: the version the last run recorded, and its line', async (t) => {
  const s = emptyState('gunicorn--g', 'g', 'gunicorn', 1)
  t.equal(reportedHook(s), null, 'no run heard one yet')
  s.extra.hook = { version: null, reportedBy: 5160, at: '2026-12-01T07:00:00.000Z' }
  t.same(reportedHook(s), { version: null, pid: 5160, at: '2026-12-01T07:00:00.000Z' })
  t.equal(
    hookLine({ version: '0.1.0', installed: { version: '0.1.0', file: '/srv/venv/rolling_restart_hook/__init__.py' }, reported: reportedHook(s) }),
    'hook: installed 0.1.0 (/srv/venv/rolling_restart_hook/__init__.py), last reported none (an old hook) (worker 5160); rolling-restart 0.1.0',
  )
})
