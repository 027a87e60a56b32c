#!/usr/bin/env node
// The `napood` executable: runs the CLI and exits with its code.
import { exitOnSignals } from '../node/io/cleanup.js';
import { main } from './main.js';

// Ctrl-C / SIGTERM end the run through 'exit': temporaries and partial outputs are removed.
exitOnSignals();

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
