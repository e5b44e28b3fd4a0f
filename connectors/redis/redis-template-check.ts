/**
 * Start-up check of key templates against the tables their rules name
 * exactly (no `*` or `?`): a template naming a column the table does not have
 * is an operator error before anything is written; a template naming a value
 * the table's events do not carry is a warning, and at run time only that key
 * is skipped (redis-plan.ts):
 *
 * - `{before.col}` where the old row lacks `col` (REPLICA IDENTITY not FULL
 *   and `col` not in the identity key): skipped on every update and delete;
 * - `{col}` where neither the key nor the old row has `col`: skipped on delete;
 * - `{key.col}` where `col` is not in the event key: always skipped.
 *
 * Rules with globs are checked at their tables' first change (redis-plan.ts),
 * as are tables altered after start-up.
 */
import type { Logger } from 'pino';
import { OperatorError } from '../../src/errors.ts';
import type { SinkContext, TableDescription } from '../../src/sink.ts';
import type { RedisRule } from './redis-config.ts';
import { parseTemplate, type KeyTemplate } from '../../src/route/row-templates.ts';

export interface TemplateCheckInput {
  sinkName: string;
  /** The sink file, for messages. */
  file: string;
  rules: readonly RedisRule[];
  describeTable: SinkContext['describeTable'];
  logger: Logger;
}

/** Rejects with an OperatorError for the first unknown column; logs a warning per template a table cannot fill. */
export async function checkTemplates(input: TemplateCheckInput): Promise<void> {
  const described = new Map<string, Promise<TableDescription | null>>();
  for (const [index, rule] of input.rules.entries()) {
    const where = `sink "${input.sinkName}" (${input.file}): rule ${index + 1}`;
    const templates: KeyTemplate[] = [...rule.invalidate.map(parseTemplate), ...(rule.refresh ? [parseTemplate(rule.refresh.key)] : [])];
    if (templates.length === 0) continue;
    for (const qualified of rule.tables.filter((t) => !/[*?]/.test(t))) {
      const dot = qualified.indexOf('.');
      if (!described.has(qualified)) described.set(qualified, input.describeTable({ schema: qualified.slice(0, dot), table: qualified.slice(dot + 1) }));
      const table = await described.get(qualified)!;
      if (table === null) {
        input.logger.warn({ rule: index + 1, table: qualified }, `${where} names table ${qualified}, which does not exist: its templates are checked at its first change`);
        continue;
      }
      for (const template of templates) {
        const unknown = template.parts.flatMap((p) => (typeof p !== 'string' && !table.columns.includes(p.column) ? [p.column] : []));
        if (unknown.length > 0) {
          throw new OperatorError(
            `${where}: key template ${JSON.stringify(template.text)} names column ${unknown.join(', ')}, which table ${qualified} does not have`,
            { hint: `${qualified} has columns ${table.columns.join(', ')}: fix the template in ${input.file}`, permanent: true },
          );
        }
        for (const problem of uncarried(template, table)) {
          input.logger.warn({ rule: index + 1, table: qualified, template: template.text, replicaIdentity: table.replicaIdentity }, `${where}: key template ${JSON.stringify(template.text)} on table ${qualified}: ${problem}`);
        }
      }
    }
  }
}

/** Why events of this table cannot always fill the template (empty: they can). */
function uncarried(template: KeyTemplate, table: TableDescription): string[] {
  const old = table.identityColumns;
  const oldRow = old.length === 0 ? 'no old row' : `old rows with only ${old.join(', ')}`;
  const fix = 'set REPLICA IDENTITY FULL on the table';
  const problems: string[] = [];
  for (const part of template.parts) {
    if (typeof part === 'string') continue;
    const { source, column } = part;
    if (source === 'before' && !old.includes(column)) {
      problems.push(`{before.${column}} is not in the old row (REPLICA IDENTITY ${table.replicaIdentity.toUpperCase()} sends ${oldRow}): this key is skipped on every update and delete; ${fix}`);
    } else if (source === 'any' && !table.keyColumns.includes(column) && !old.includes(column)) {
      problems.push(`{${column}} is neither in the key nor in the old row (REPLICA IDENTITY ${table.replicaIdentity.toUpperCase()} sends ${oldRow}): this key is skipped on delete; ${fix}`);
    } else if (source === 'key' && !table.keyColumns.includes(column)) {
      const key = table.keyColumns.length === 0 ? 'events have no key' : `the key is ${table.keyColumns.join(', ')}`;
      problems.push(`{key.${column}} is not a key column (${key}): this key is always skipped; use {${column}} or {after.${column}}`);
    }
  }
  return problems;
}
