export interface StartupSignals {
  /** The first SIGTERM/SIGINT received, or null. */
  readonly signal: NodeJS.Signals | null;
  /** Marks a start-up step (test hook TEST_OWL_STARTUP_STEP_MS: trace on stderr, then a pause). */
  step(name: string): Promise<void>;
  /** Start-up is over: SIGTERM/SIGINT now call `handler` (at once if one has come). Returns a remover. */
  handOver(handler: (signal: NodeJS.Signals) => void): () => void;
}
/** Installs the start-up SIGTERM/SIGINT handlers once per process and returns their shared state. */
export function startupSignals(): StartupSignals;
