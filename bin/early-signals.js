// SIGTERM and SIGINT from the first line of `owl` on (bin/owl.js installs these before it loads
// anything else), so a signal at any moment of start-up ends the command cleanly instead of
// killing it halfway: the first one is remembered, and the command acts on it at the end of its
// current start-up step (src/bin/startup.ts) or when it hands signals over to its own shutdown.
// A second signal during start-up exits at once (130). The state is kept on globalThis, so the
// compiled build's copy of this module and bin/owl.js's share it.
//
// Node itself cannot run any handler in its own first ~40 ms (before the first line of JavaScript):
// a signal then ends the process as it ends any program that has not started, with nothing
// opened or written yet.
//
// Test hook: TEST_OWL_STARTUP_STEP_MS=N prints `owl start-up: <step>` on stderr at every start-up
// step and then waits N ms, so tests can signal at a known step and slow start-up on purpose.

const KEY = Symbol.for('sparkling-owl-spin.startup-signals');

/** Installs the start-up handlers once per process and returns their shared state. */
export function startupSignals() {
  const existing = globalThis[KEY];
  if (existing) return existing;
  const stepMs = Number(process.env.TEST_OWL_STARTUP_STEP_MS ?? 0);
  const early = (signal) => {
    if (state.signal) {
      process.stderr.write(`owl: second ${signal} during start-up: exiting now\n`);
      process.exit(130);
    }
    state.signal = signal;
  };
  const state = {
    /** The first SIGTERM/SIGINT received, or null. */
    signal: null,
    /** Marks a start-up step (see the test hook above). */
    async step(name) {
      if (!(stepMs > 0)) return;
      process.stderr.write(`owl start-up: ${name}\n`);
      await new Promise((resolve) => setTimeout(resolve, stepMs));
    },
    /**
     * Start-up is over: from now on SIGTERM and SIGINT call `handler` (a signal already
     * received calls it at once). Returns a function that removes `handler`.
     */
    handOver(handler) {
      // Added before the early handler goes: were a signal left without listeners for a moment,
      // Node would close its watcher and drop a signal that had arrived but was not yet handled.
      process.on('SIGTERM', handler);
      process.on('SIGINT', handler);
      process.off('SIGTERM', early);
      process.off('SIGINT', early);
      if (state.signal) handler(state.signal);
      return () => {
        process.off('SIGTERM', handler);
        process.off('SIGINT', handler);
      };
    },
  };
  process.on('SIGTERM', early);
  process.on('SIGINT', early);
  globalThis[KEY] = state;
  return state;
}
