/**
 * main(argv) -> exit code. Only bin/rolling-restart calls process.exit.
 */
import type { RunContext } from './cli.js'
import { EXIT, RollingRestartError, errorMessage } from './errors.js'
import { isEnvironmentFault } from './state/state-fault.js'
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
    // the demo says in its own words what it stops; status --watch just ends; a roll says this
    if (argv[0] !== 'demo' && argv[0] !== 'status') {
      process.stderr.write(`rolling-restart: ${sig}: stopping after the current wait; no further worker will be signalled (again to exit at once)\n`)
    }
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const { buildProgram, commandToLoad } = await import('./cli.js')
    const program = await buildProgram(ctx, commandToLoad(argv))
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
  const { code, reason, message, plain } = described(err)
  process.stderr.write(`rolling-restart: ${message}\n`)
  if (json) {
    process.stdout.write(
      JSON.stringify({ ok: false, error: { code: reason, exitCode: code, message: plain } }, null, 2) + '\n',
    )
  }
  return code
}

/** commander's own errors (usage, --help, --version), told apart without loading commander up front. */
function isCommanderError(err: unknown): err is { exitCode: number; code: string } {
  return err instanceof Error && err.name === 'CommanderError' && typeof (err as { code?: unknown }).code === 'string'
}

/**
 * An error in words, its exit code and its reason. Ours carry both; a fault of the environment
 * (permission denied, no space, a missing file) that no command caught is exit 3 without a stack
 * trace; anything else is a bug: exit 1, with the stack.
 */
function described(err: unknown): { code: number; reason: string; message: string; plain: string } {
  if (err instanceof RollingRestartError) return { code: err.exitCode, reason: err.code, message: err.message, plain: err.message }
  const plain = errorMessage(err)
  if (isEnvironmentFault(err)) {
    const message = `${plain}: a fault of the environment (permissions, space, a missing file), not of rolling-restart`
    return { code: EXIT.TARGET, reason: 'environment', message, plain: message }
  }
  return { code: EXIT.INTERNAL, reason: 'internal', message: `internal error: ${err instanceof Error ? (err.stack ?? plain) : plain}`, plain }
}
