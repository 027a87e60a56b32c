#!/usr/bin/env node
// The `napood` executable: runs the CLI and exits with its code.
import { exitOnSignals } from '../node/io/cleanup.js';
import { main } from './main.js';

// Ctrl-C / SIGTERM end the run through 'exit': temporaries and partial outputs are removed.
exitOnSignals();

// A reader that goes away (`napood methods | head -1`) is not an error of the run: what is left for
// stdout is dropped, the run finishes (its files are written) and exits with its own code. Any
// other stdout error is thrown as before.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
});

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
