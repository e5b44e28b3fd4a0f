/**
 * How the commands load the main file: every sink type known, a sink file
 * shared by several sources checked, and — with `sources:` — the one source
 * that `--source` names.
 */
import { sinkConfigSchemas, sinkSharingProblems } from '../../connectors/index.ts';
import { loadConfig, loadSources, type LoadedSources, type SlotlineConfig } from '../config/load-config.ts';

export function loadCommandConfig(configPath: string, source?: string): Promise<SlotlineConfig> {
  return loadConfig(configPath, { sinkTypes: sinkConfigSchemas(), sharing: sinkSharingProblems, source });
}

export function loadCommandSources(configPath: string): Promise<LoadedSources> {
  return loadSources(configPath, { sinkTypes: sinkConfigSchemas(), sharing: sinkSharingProblems });
}
