import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { commandToLoad, invokedCommand } from '../../src/cli.js'
import { editDistance, suggest } from '../../src/cli-suggest.js'
import { UsageError } from '../../src/errors.js'
import { binPath, repoRoot } from '../helpers/paths.js'

const cli = (...args: string[]) => spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8' })

t.test('the command argv asks for', async (t) => {
  t.equal(invokedCommand([]), 'restart')
  t.equal(invokedCommand(['--group', 'app']), 'restart', 'flags first: the default command')
  t.equal(invokedCommand(['status', '--json']), 'status')
  t.equal(invokedCommand(['help', 'doctor']), 'doctor')
  t.throws(() => invokedCommand(['stauts']), UsageError)
  t.throws(() => invokedCommand(['stauts']), /unknown command 'stauts' \(did you mean 'status'\?\)/)
  t.throws(() => invokedCommand(['xyzzy']), /unknown command 'xyzzy'; the commands are: restart, status/)
})

t.test('the command whose options are loaded: none for the help of the program itself', async (t) => {
  t.equal(commandToLoad(['--help']), 'help')
  t.equal(commandToLoad(['-h']), 'help')
  t.equal(commandToLoad(['--group', 'app', '--help']), 'help', 'commander prints the program help before the default command')
  t.equal(commandToLoad(['restart', '--help']), 'restart')
  t.equal(commandToLoad(['--group', 'app']), 'restart')
})

t.test('suggestions are close names only', async (t) => {
  t.equal(editDistance('stauts', 'status'), 1, 'a swap of neighbours is one edit')
  t.equal(suggest('resum', ['restart', 'resume']), 'resume')
  t.equal(suggest('doctr', ['doctor', 'demo']), 'doctor')
  t.equal(suggest('banana', ['restart', 'status']), null)
})

t.test('the CLI as a user meets it', async (t) => {
  const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version
  for (const flag of ['--version', '-V']) {
    const r = cli(flag)
    t.equal(r.status, 0)
    t.equal(r.stdout.trim(), version, `${flag} prints package.json's version`)
  }
  const typo = cli('stauts')
  t.equal(typo.status, 2)
  t.match(typo.stderr, /^rolling-restart: unknown command 'stauts' \(did you mean 'status'\?\)/)
  const flag = cli('--grup', 'x')
  t.equal(flag.status, 2)
  t.match(flag.stderr, /^rolling-restart: unknown option '--grup'/, "commander's errors carry the tool's prefix")
  t.match(flag.stderr, /Did you mean --group\?/)
  const both = cli('--group', 'x', '--quiet', '--verbose')
  t.equal(both.status, 2)
  t.match(both.stderr, /--quiet and --verbose exclude each other/)
  const help = cli('--help')
  t.equal(help.status, 0)
  for (const c of ['restart', 'status', 'doctor', 'completion']) t.match(help.stdout, new RegExp(`\\n  ${c}\\b`), `--help lists ${c}`)
})

t.test('completion scripts name every command and their options', async (t) => {
  const bash = cli('completion', 'bash')
  t.equal(bash.status, 0)
  t.match(bash.stdout, /complete -F _rolling_restart rolling-restart/)
  t.match(bash.stdout, /status\) opts="[^"]*--json/)
  t.match(bash.stdout, /status\) opts="[^"]*--watch/, 'the completion comes from the command definitions: --watch is in it')
  t.match(bash.stdout, /restart\) opts="[^"]*--ready-timeout/)
  const syntax = spawnSync('bash', ['-n'], { input: bash.stdout, encoding: 'utf8' })
  t.equal(syntax.status, 0, `bash accepts the script ${syntax.stderr}`)
  const zsh = cli('completion', 'zsh')
  t.equal(zsh.status, 0)
  t.match(zsh.stdout, /#compdef rolling-restart/)
  const bad = cli('completion', 'fish')
  t.equal(bad.status, 2)
  t.match(bad.stderr, /the shells are bash and zsh/)
})

t.test('status --watch is refused off a terminal and with --json, naming the flag (exit 2)', async (t) => {
  const piped = cli('status', '--watch', '--state-dir', '/nonexistent/rr-state')
  t.equal(piped.status, 2)
  t.match(piped.stderr, /^rolling-restart: --watch needs a terminal on stdout/)
  const json = cli('status', '--watch', '3', '--json')
  t.equal(json.status, 2)
  t.match(json.stderr, /--watch redraws a terminal and --json prints one report/)
})
