/** `store` in hub.yaml (schemas/hub-config.v1.schema.json, defaults applied by the config ajv). */
export interface StoreConfig {
  type: 'auto' | 'sqlite' | 'postgres' | 'none';
  sqlite: { path: string | null };
  postgres: { url: string | null; passwordFile: string | null; poolSize: number; statementTimeoutMs: number };
  materializer: { enabled: boolean; consumer: string; batchRecords: number; pollIntervalMs: number };
}
