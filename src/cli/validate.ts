/** `slotline validate --config <file>`: parse and check, connect to nothing. */
import { sinkConfigSchemas } from '../../connectors/index.ts';
import { loadConfig } from '../config/load-config.ts';
import { EXIT_OK } from './exit-codes.ts';

export async function validateCommand(configPath: string): Promise<number> {
  const config = await loadConfig(configPath, { sinkTypes: sinkConfigSchemas() });
  const sinks = config.sinks.map((s) => `${s.name} (${s.type})`).join(', ');
  console.log(`${configPath}: valid — slot "${config.source.slot}", publication "${config.source.publication}", topic prefix "${config.topic_prefix}", sinks: ${sinks}`);
  return EXIT_OK;
}
