import t from 'tap'
import { spawnSync } from 'node:child_process'
import { EXIT, UsageError } from '../../src/errors.js'
import { parseModeFlags } from '../../src/commands/mode.js'
import { parseModeFile, parseModeName, renderModeFile } from '../../src/switch/mode-file.js'
import { hookPath } from '../../src/paths.js'

t.test('mode names: the three the middleware knows; anything else is exit 2 with the choices', async (t) => {
  t.equal(parseModeName('maintenance'), 'maintenance')
  t.equal(parseModeName('READ-ONLY'), 'read-only')
  t.equal(parseModeName('normal'), 'normal')
  for (const [bad, hint] of [['readonly', /did you mean read-only/], ['maintainance', /did you mean maintenance/], ['off', /not one of: normal, maintenance, read-only/]] as const) {
    try {
      parseModeName(bad)
      t.fail(bad)
    } catch (err) {
      t.type(err, UsageError)
      t.equal((err as UsageError).exitCode, EXIT.USAGE)
      t.match((err as Error).message, hint)
      t.match((err as Error).message, new RegExp(`mode "${bad}"`))
    }
  }
})

t.test('flags: the mode file from --mode-file or the variable the app reads; --retry-after checked', async (t) => {
  t.same(parseModeFlags('maintenance', { modeFile: '/srv/app/MODE', retryAfter: '120' }, {}), {
    mode: 'maintenance',
    file: '/srv/app/MODE',
    fileFlag: '--mode-file',
    retryAfter: 120,
  })
  t.equal(parseModeFlags('read-only', {}, { ROLLING_RESTART_MODE_FILE: '/srv/app/MODE' }).fileFlag, 'ROLLING_RESTART_MODE_FILE')
  t.throws(() => parseModeFlags('maintenance', {}, {}), /--mode-file FILE/)
  t.throws(() => parseModeFlags('maintenance', { modeFile: '/m', retryAfter: '2m' }, {}), /--retry-after "2m" is not a number of seconds/)
  t.throws(() => parseModeFlags('maintenance', { modeFile: '/m', retryAfter: '-1' }, {}), /--retry-after "-1"/)
  t.throws(() => parseModeFlags('normal', { modeFile: '/m', retryAfter: '30' }, {}), /--retry-after 30 has no effect in normal mode/)
  t.throws(() => parseModeFlags('maintenance', { modeFile: '/srv/' }, {}), /--mode-file \/srv\/ is a directory path/)
})

t.test('the file we write reads back the same in TypeScript and in the Python middleware', async (t) => {
  const cases: Array<[Parameters<typeof renderModeFile>[0], number | null, number]> = [
    ['maintenance', 120, 120],
    ['maintenance', null, 60],
    ['read-only', 0, 0],
    ['normal', null, 60],
  ]
  const dir = t.testdir({})
  for (const [mode, retry, expectRetry] of cases) {
    const text = renderModeFile(mode, retry)
    t.match(text, new RegExp(`^${mode}\\n`), 'the mode word comes first')
    t.same(parseModeFile(text), { mode, retryAfter: expectRetry, unknown: null })
    const r = spawnSync(
      'python3',
      ['-c', 'import json,sys; from rolling_restart_hook.modes import parse_mode; print(json.dumps(parse_mode(sys.stdin.read())))'],
      { input: text, encoding: 'utf8', env: { ...process.env, PYTHONPATH: hookPath() }, cwd: dir },
    )
    t.equal(r.status, 0, r.stderr)
    t.same(JSON.parse(r.stdout), [mode, expectRetry, null], `python parse_mode agrees for ${mode}`)
  }
  t.same(parseModeFile(''), { mode: 'normal', retryAfter: 60, unknown: null })
  t.same(parseModeFile('bogus\nretry-after=5'), { mode: 'normal', retryAfter: 5, unknown: 'bogus' })
  t.same(parseModeFile('  Read-Only because deploy\r\nretry-after = 9\r\n'), { mode: 'read-only', retryAfter: 9, unknown: null })
})
