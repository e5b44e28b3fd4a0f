/** `slotline validate --config <file>`: parse and check, connect to nothing. */
import { loadCommandConfig, loadCommandSources } from './command-config.ts';
import type { SlotlineConfig } from '../config/load-config.ts';
import { EXIT_OK } from './exit-codes.ts';

export async function validateCommand(configPath: string, source?: string): Promise<number> {
  const configs = source === undefined ? (await loadCommandSources(configPath)).sources : [await loadCommandConfig(configPath, source)];
  for (const config of configs) console.log(`${configPath}: valid — ${summary(config)}`);
  return EXIT_OK;
}

function summary(config: SlotlineConfig): string {
  const sinks = config.sinks.map((s) => `${s.name} (${s.type})`).join(', ');
  const name = config.source_name === null ? '' : `source "${config.source_name}": `;
  return `${name}slot "${config.source.slot}", publication "${config.source.publication}", topic prefix "${config.topic_prefix}", sinks: ${sinks}`;
}
