#!/usr/bin/env node
// The `napood` executable: runs the CLI and exits with its code.
import { main } from './main.js';

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
