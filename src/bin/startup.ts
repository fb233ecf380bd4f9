import { startupSignals } from '../../bin/early-signals.js';
import type { Logger } from '../log.ts';
import { onShutdown } from './cli-util.ts';

/** A SIGTERM/SIGINT ended start-up before the command was ready: exit 0 with one line (owl.ts). */
export class StartupInterrupted extends Error {
  constructor(
    readonly command: string,
    readonly signal: NodeJS.Signals,
  ) {
    super(`owl ${command}: stopped by ${signal} during start-up`);
  }
}

/**
 * The start-up of a long-running command (serve, worker). What it opens is registered with the
 * way to close it; at the end of each step a signal received so far (bin/early-signals.js keeps
 * it from the first line of the process) closes everything, newest first, and ends start-up with
 * StartupInterrupted. No step is cut short: a migration or a listen finishes before the check,
 * so nothing is left half-written. Once ready, the same closers are the command's shutdown.
 */
export class Startup {
  private readonly closers: Array<() => unknown> = [];
  private readonly signals = startupSignals();

  constructor(private readonly command: string) {}

  /** Registers how to undo what was just opened (closed in reverse order). */
  opened(close: () => unknown): void {
    this.closers.push(close);
  }

  /** Ends a start-up step: throws StartupInterrupted, after closing, if a signal has come. */
  async step(name: string): Promise<void> {
    await this.signals.step(`${this.command} ${name}`);
    const signal = this.signals.signal;
    if (signal) {
      await this.close();
      throw new StartupInterrupted(this.command, signal);
    }
  }

  /**
   * Runs the command's start-up; when it throws, what it opened is closed and the error goes on to
   * the caller. Never resolves: once ready, the command runs until a signal ends the process.
   */
  async run(start: (startup: Startup) => Promise<void>): Promise<number> {
    try {
      await start(this);
    } catch (err) {
      await this.close();
      throw err;
    }
    return new Promise<number>(() => {});
  }

  /** Start-up is over: SIGTERM/SIGINT now drain and close everything, then exit 0 (onShutdown). */
  ready(logger: Logger): void {
    onShutdown(logger, () => this.close(), this.signals);
    void this.signals.step(`${this.command} ready`);
  }

  private async close(): Promise<void> {
    for (let close = this.closers.pop(); close; close = this.closers.pop()) await close();
  }
}
