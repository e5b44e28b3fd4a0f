/** Debezium-style conversion options, resolved from the main config file. */
export interface NormalizeOptions {
  /** Debezium `topic.prefix`: the stem of topic and schema names, and `source.name`. */
  topicPrefix: string;
  /** Database name, for `source.db`. */
  database: string;
  decimalHandlingMode: 'precise' | 'double' | 'string';
  timePrecisionMode: 'adaptive' | 'adaptive_time_microseconds' | 'connect';
  binaryHandlingMode: 'bytes' | 'base64' | 'base64-url-safe' | 'hex';
  intervalHandlingMode: 'numeric' | 'string';
  hstoreHandlingMode: 'json' | 'map';
  /** Scale used for `money` columns (Debezium `money.fraction.digits`). */
  moneyFractionDigits: number;
  /** Debezium `unavailable.value.placeholder`, for unchanged TOAST values. */
  unavailableValuePlaceholder: string;
  /**
   * `lossless`: Debezium's mapping, except where Debezium 3.6.1 drops a column or
   * loses its value; there we keep the data. `strict`: Debezium 3.6.1's events
   * exactly, those columns dropped and those values lost (strict-compat.ts).
   */
  debeziumCompat: 'lossless' | 'strict';
  /** `source.version` in every event; defaults to the Debezium release whose output we match (3.6.1.Final). */
  debeziumVersion?: string;
}

export const DEFAULT_NORMALIZE_OPTIONS: Omit<NormalizeOptions, 'topicPrefix' | 'database'> = {
  decimalHandlingMode: 'precise',
  timePrecisionMode: 'adaptive',
  binaryHandlingMode: 'bytes',
  intervalHandlingMode: 'numeric',
  hstoreHandlingMode: 'json',
  moneyFractionDigits: 2,
  unavailableValuePlaceholder: '__debezium_unavailable_value',
  debeziumCompat: 'lossless',
};
