// A real Gunicorn whose hook is of another version than the CLI (an old pip-installed copy, with
// the `_version.py` a wheel build writes): the roll still succeeds, warns once, logs the event,
// and doctor then reports both the installed hook and the one the workers sent.
import t from 'tap'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeAppDir } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { hooksDir } from '../helpers/paths.js'
import { freeUdpPort } from '../helpers/ports.js'
import { tempDir } from '../helpers/tmp.js'

const OLD = '0.0.1'

t.test('workers of an older hook: one warning per run, a hook-version log event, and doctor says so', async (t) => {
  const site = tempDir(t, 'old-hook')
  cpSync(join(hooksDir, 'rolling_restart_hook'), join(site, 'rolling_restart_hook'), { recursive: true })
  writeFileSync(join(site, 'rolling_restart_hook', '_version.py'), `VERSION = ${JSON.stringify(OLD)}\n`)
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  const server = await startGunicorn(t, {
    appDir,
    workers: 2,
    name: 'hook-old',
    notifyPort,
    // this copy instead of the tree's hook; SPT_NOENV=1 keeps the environment readable for doctor
    env: { BOOT_DELAY: '0', SPT_NOENV: '1', PYTHONPATH: [site, appDir].join(':') },
  })
  const stateDir = tempDir(t, 'state')
  const logFile = join(tempDir(t, 'log'), 'run.log')
  const target = ['--pidfile', server.pidfile, '--state-dir', stateDir, '--server-config', server.confPath]
  const notify = ['--notify', `127.0.0.1:${notifyPort}`]

  const roll = await runCli([...target, ...notify, '--no-preflight', '--log-format', 'text', '--log-file', logFile])
  t.equal(roll.code, 0, 'the roll still succeeds', { stderr: roll.stderr.slice(-2000) })
  const warnings = roll.stderr.split('\n').filter((l) => l.includes('warning:'))
  t.equal(warnings.length, 1, 'one warning line for two workers', { stderr: roll.stderr })
  t.match(warnings[0], new RegExp(`the hook is version "${OLD}" and rolling-restart is \\d+\\.\\d+\\.\\d+ \\(another major or minor version\\).*hook-path`))

  const events = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  const flagged = events.filter((e) => e.event === 'hook-version')
  t.equal(flagged.length, 1, 'one hook-version event for the one version heard')
  t.match(flagged[0], { level: 40, hookVersion: OLD, fix: /hook-path/ })
  t.same(events.filter((e) => e.event === 'ready').map((e) => e.hookVersion), [OLD, OLD], 'each ready event carries the version')

  const doctor = await runCli(['doctor', ...target, ...notify, '--json'])
  t.equal(doctor.code, 0, 'warnings only', { stdout: doctor.stdout, stderr: doctor.stderr })
  const d = doctor.json as { hook: { installed: { version: string; file: string }; reported: { version: string } }; hazards: Array<{ id: string; severity: string; message: string }> }
  t.match(d.hook, { installed: { version: OLD, file: join(site, 'rolling_restart_hook', '__init__.py') }, reported: { version: OLD } })
  t.match(d.hazards.find((h) => h.id === 'hook-version'), { severity: 'warning', message: new RegExp(`imports the hook from ${site}.*"${OLD}"`) })
  t.match(d.hazards.find((h) => h.id === 'hook-version-reported'), { severity: 'warning', message: new RegExp(`"${OLD}"`) })
  const text = await runCli(['doctor', ...target, ...notify])
  t.match(text.stdout.split('\n')[1], new RegExp(`^ {2}hook: installed ${OLD} \\(.*\\), last reported ${OLD} \\(worker \\d+\\); rolling-restart \\d`))
})
