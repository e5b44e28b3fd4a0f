#!/usr/bin/env node
// The `slotline` command. The sources are TypeScript run by Node's type stripping (Node >= 22.18).
import('../src/cli/main.ts').then((m) => m.main(process.argv.slice(2))).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
