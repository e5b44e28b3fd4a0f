#!/usr/bin/env node
// The `slotline` command. The sources are TypeScript run by Node's type stripping (Node >= 22.18).

// kafkajs computes a negative timeout in its request queue (harmless, Node clamps it
// to 1 ms) and Node prints a warning each time; keep every other warning.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') console.error(`${warning.name}: ${warning.message}`);
});

import('../src/cli/main.ts').then((m) => m.main(process.argv.slice(2))).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
