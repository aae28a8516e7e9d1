/**
 * main(argv) -> exit code. Only bin/rolling-restart calls process.exit.
 */
import type { RunContext } from './cli.js'
import { EXIT, RollingRestartError, errorMessage } from './errors.js'
import { packageVersion } from './version.js'

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  // `--version` alone: answered before commander and the commands are loaded
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(packageVersion() + '\n')
    return EXIT.OK
  }
  const controller = new AbortController()
  const ctx: RunContext = { interrupt: controller.signal, code: EXIT.OK }
  let signals = 0
  const onSignal = (sig: NodeJS.Signals) => {
    signals++
    if (signals > 1) {
      process.stderr.write(`rolling-restart: second ${sig}, exiting now\n`)
      process.exit(EXIT.INTERRUPTED)
    }
    // the demo says in its own words what it stops; a roll says this
    if (argv[0] !== 'demo') {
      process.stderr.write(`rolling-restart: ${sig}: stopping after the current wait; no further worker will be signalled (again to exit at once)\n`)
    }
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const { buildProgram, invokedCommand } = await import('./cli.js')
    const program = await buildProgram(ctx, invokedCommand(argv))
    await program.parseAsync(argv, { from: 'user' })
    return ctx.code
  } catch (err) {
    return reportError(err, argv.includes('--json'))
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

function reportError(err: unknown, json: boolean): number {
  if (isCommanderError(err)) {
    // --help and --version end here too, with exit code 0
    if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK
    return EXIT.USAGE
  }
  const known = err instanceof RollingRestartError
  const code = known ? err.exitCode : EXIT.INTERNAL
  const message = known ? err.message : `internal error: ${err instanceof Error ? (err.stack ?? err.message) : errorMessage(err)}`
  process.stderr.write(`rolling-restart: ${message}\n`)
  if (json) {
    process.stdout.write(
      JSON.stringify({ ok: false, error: { code: known ? err.code : 'internal', exitCode: code, message: known ? err.message : errorMessage(err) } }, null, 2) + '\n',
    )
  }
  return code
}

/** commander's own errors (usage, --help, --version), told apart without loading commander up front. */
function isCommanderError(err: unknown): err is { exitCode: number; code: string } {
  return err instanceof Error && err.name === 'CommanderError' && typeof (err as { code?: unknown }).code === 'string'
}
