#!/usr/bin/env node
// The `slotline` command. It runs the compiled JavaScript in dist/ (built by
// `npm ci` through the `prepare` script, or by `npm run build`) on any Node from
// 20 on; see pick-entry.js for a checkout whose sources changed since the build.
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nodeTooOld, pickEntry } from './pick-entry.js';

const tooOld = nodeTooOld(process.version);
if (tooOld) {
  console.error(tooOld);
  process.exit(1);
}
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const choice = pickEntry(root, { canStripTypes: Boolean(process.features && process.features.typescript), nodeVersion: process.version });
if (choice.entry === undefined) {
  console.error(choice.problem);
  process.exit(1);
}
const entry = choice.entry;

// kafkajs computes a negative timeout in its request queue (harmless, Node clamps it
// to 1 ms) and Node prints a warning each time; keep every other warning.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') console.error(`${warning.name}: ${warning.message}`);
});

import(pathToFileURL(entry).href).then((m) => m.main(process.argv.slice(2))).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
